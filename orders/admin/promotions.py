"""The promotions' and coupons' pages (spec section 6): a thin face over
`orders.services.promotions`, whose checks run on the form so a refusal is a message on its
field, never an error page.

One page for every kind of promotion (the kind is chosen when it is created), with its rules
inline, one of each kind; coupons have their own page, linked from their promotion.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, F, Q, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import TabularInline
from unfold.decorators import display

from oms.admin import MoneyModelForm, ServiceModelAdmin
from oms.errors import DomainError, admin_message
from oms.services import resource_delete
from orders.models import Coupon, Promotion, PromotionRule
from orders.services import promotions as services

STATUS_COLOURS = {
    Promotion.Status.ACTIVE: "success",
    Promotion.Status.PENDING: "info",
    Promotion.Status.INACTIVE: "warning",
    Promotion.Status.EXPIRED: "danger",
    Promotion.Status.DISABLED: "danger",
}


class DomainCheckedForm(forms.ModelForm):
    """Runs the service's own checks on the cleaned instance (after the model's), so the admin
    refuses what the API refuses, with the same words, on the field the pointer names."""

    # a pointer's attribute -> the form field that enters it (amounts in major units)
    pointer_fields: ClassVar[dict[str, str]] = {}

    def domain_check(self, instance: Any) -> None:
        raise NotImplementedError

    def validate_unique(self) -> None:
        """Before the model's constraints (on the instance the form has filled in): the
        service's message says what a violated constraint's cannot."""
        if not self.errors:
            try:
                self.domain_check(self.instance)
            except DomainError as exc:
                name = (exc.pointer or "").rsplit("/", 1)[-1]
                name = self.pointer_fields.get(name, name)
                self.add_error(name if name in self.fields else None, admin_message(exc))
                return
        super().validate_unique()


# --- promotions -------------------------------------------------------------------------------


class PromotionForm(DomainCheckedForm, MoneyModelForm):
    fixed_amount = forms.DecimalField(
        min_value=0,
        decimal_places=4,
        required=False,
        label="Fixed amount",
        help_text="Fixed amount: the discount on the order; fixed price: each matching SKU's "
        "price.",
    )
    money_fields = {"fixed_amount": "fixed_amount_cents"}
    pointer_fields = {"fixed_amount_cents": "fixed_amount"}

    class Meta:
        model = Promotion
        fields = (
            "name",
            "market",
            "currency_code",
            "starts_at",
            "expires_at",
            "exclusive",
            "priority",
            "total_usage_limit",
            "percentage",
            "x",
            "y",
            "cheapest_free",
            "sku_list",
            "reference",
            "reference_origin",
            "metadata",
        )

    def currency_code_of(self, data: dict[str, Any]) -> str:
        market = data.get("market") or self.instance.market
        return str(market.price_list.currency_code)

    def domain_check(self, instance: Promotion) -> None:
        services.promotion_check(promotion=instance)


class PromotionAddForm(PromotionForm):
    """A new promotion: its kind first (it cannot change afterwards)."""

    # not `type`: a form may not name the model's non-editable field
    kind = forms.ChoiceField(choices=Promotion.Type.choices, label="Kind")

    def _post_clean(self) -> None:
        self.instance.type = self.cleaned_data.get("kind", "")
        super()._post_clean()  # type: ignore[misc]


class RuleFormSet(BaseInlineFormSet):
    def _construct_form(self, i: int, **kwargs: Any) -> Any:
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        form.parent = self.instance  # a new promotion has no pk yet
        return form


class RuleForm(DomainCheckedForm, MoneyModelForm):
    rule_type: ClassVar[str]
    parent: Promotion | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.type = self.rule_type

    def currency_code_of(self, data: dict[str, Any]) -> str:
        promotion = self.parent or self.instance.promotion
        return str(promotion.market.price_list.currency_code)

    def domain_check(self, instance: PromotionRule) -> None:
        services.promotion_rule_check(promotion_rule=instance)


class OrderAmountRuleForm(RuleForm):
    rule_type = PromotionRule.Type.ORDER_AMOUNT
    order_amount = forms.DecimalField(min_value=0, decimal_places=4, label="Minimum amount")
    money_fields = {"order_amount": "order_amount_cents"}
    pointer_fields = {"order_amount_cents": "order_amount"}

    class Meta:
        model = PromotionRule
        fields = ("use_subtotal",)


class SkuListRuleForm(RuleForm):
    rule_type = PromotionRule.Type.SKU_LIST

    class Meta:
        model = PromotionRule
        fields = ("sku_list", "min_quantity", "all_skus")


class CouponCodesRuleForm(RuleForm):
    rule_type = PromotionRule.Type.COUPON_CODES
    # the rule has nothing else to fill in: ticking this is what adds it
    needs_coupon = forms.BooleanField(required=False, label="Applies only with one of its coupons")

    class Meta:
        model = PromotionRule
        fields = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["needs_coupon"].initial = not self.instance._state.adding


class RuleInline(TabularInline):
    model = PromotionRule
    formset = RuleFormSet
    extra = 1
    max_num = 1
    rule_type: ClassVar[str]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PromotionRule]:
        return super().get_queryset(request).filter(type=self.rule_type)


class OrderAmountRuleInline(RuleInline):
    form = OrderAmountRuleForm
    rule_type = PromotionRule.Type.ORDER_AMOUNT
    fields = ("order_amount", "use_subtotal")
    verbose_name = verbose_name_plural = "Order amount rule (a minimum cart amount)"


class SkuListRuleInline(RuleInline):
    form = SkuListRuleForm
    rule_type = PromotionRule.Type.SKU_LIST
    fields = ("sku_list", "min_quantity", "all_skus")
    verbose_name = verbose_name_plural = "SKU list rule (SKUs the cart must hold)"


class CouponCodesRuleInline(RuleInline):
    form = CouponCodesRuleForm
    rule_type = PromotionRule.Type.COUPON_CODES
    fields = ("needs_coupon", "coupons")
    readonly_fields = ("coupons",)
    extra = 0
    verbose_name = verbose_name_plural = "Coupon codes rule (a coupon unlocks it)"

    @admin.display(description="coupons")
    def coupons(self, rule: PromotionRule) -> str:
        if rule._state.adding:  # (a new row has its public id already: pk is never None)
            return "Add coupons once the rule is saved."
        url = reverse("admin:orders_coupon_changelist") + f"?promotion_rule__id__exact={rule.pk}"
        return format_html('<a href="{}">{} coupon(s)</a>', url, rule.coupons.count())


class PromotionStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, value) for value in Promotion.Status.values]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        now = timezone.now()
        enabled = Q(disabled_at__isnull=True)
        running = enabled & Q(starts_at__lte=now, expires_at__gt=now)
        reached = Q(total_usage_limit__isnull=False, total_usage_count__gte=F("total_usage_limit"))
        conditions: dict[str, Q] = {
            Promotion.Status.DISABLED: ~enabled,
            Promotion.Status.EXPIRED: enabled & Q(expires_at__lte=now),
            Promotion.Status.PENDING: enabled & Q(starts_at__gt=now, expires_at__gt=now),
            Promotion.Status.INACTIVE: running & reached,
            Promotion.Status.ACTIVE: running & ~reached,
        }
        return queryset.filter(conditions[value]) if value in conditions else queryset


@admin.register(Promotion)
class PromotionAdmin(ServiceModelAdmin):
    form = PromotionForm
    list_display = (
        "name",
        "kind",
        "market",
        "status_badge",
        "usage",
        "coupons_total",
        "starts_at",
        "expires_at",
    )
    list_filter = ("type", PromotionStatusFilter, "market", "exclusive")
    search_fields = ("name",)
    list_select_related = ("market",)
    date_hierarchy = "starts_at"
    actions = ("disable_promotions", "enable_promotions")
    inlines = (OrderAmountRuleInline, SkuListRuleInline, CouponCodesRuleInline)
    readonly_fields = (
        "id",
        "status_badge",
        "total_usage_count",
        "disabled_at",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Promotion]:
        queryset: QuerySet[Promotion] = super().get_queryset(request)
        return queryset.annotate(coupons_count=Count("promotion_rules__coupons"))

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = PromotionAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        return ("type", *fields) if obj is not None else fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return (
            (
                None,
                {
                    "fields": (
                        "type" if obj is not None else "kind",
                        "name",
                        "market",
                        "currency_code",
                        ("starts_at", "expires_at"),
                        ("exclusive", "priority"),
                        "total_usage_limit",
                    )
                },
            ),
            (
                "Discount",
                {
                    "description": "Fill in what the kind uses: the percentage (percentage "
                    "discount), the amount (fixed amount, fixed price), X and Y (buy X pay Y); "
                    "a SKU list limits a percentage, fixed price or buy X pay Y promotion to "
                    "its SKUs.",
                    "fields": (
                        "percentage",
                        "fixed_amount",
                        ("x", "y", "cheapest_free"),
                        "sku_list",
                    ),
                },
            ),
            (
                "Usage",
                {"fields": ("status_badge", "total_usage_count", "disabled_at")},
            ),
            (
                None,
                {
                    "fields": (
                        "reference",
                        "reference_origin",
                        "metadata",
                        "id",
                        "created_at",
                        "updated_at",
                    )
                },
            ),
        )

    @display(description="kind", ordering="type")
    def kind(self, promotion: Promotion) -> str:
        return promotion.get_type_display()

    @display(description="status", label=STATUS_COLOURS)
    def status_badge(self, promotion: Promotion) -> str:
        return promotion.status if promotion.pk else "—"

    @display(description="usage", ordering="total_usage_count")
    def usage(self, promotion: Promotion) -> str:
        limit = promotion.total_usage_limit
        return f"{promotion.total_usage_count} / {limit if limit is not None else '∞'}"

    @display(description="coupons", ordering="coupons_count")
    def coupons_total(self, promotion: Promotion) -> int:
        return int(getattr(promotion, "coupons_count", 0))

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if not change:
            services.promotion_save(promotion=obj)
            return
        # the row is re-read under its lock: the usage count moves while the page is open
        columns = [name for name in form.fields if hasattr(Promotion, name)]
        columns += list(PromotionForm.money_fields.values())
        values = {name: getattr(obj, name) for name in columns if name != "type"}
        services.promotion_update(promotion=obj, data=values)

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        rules = formset.save(commit=False)
        for rule in formset.deleted_objects:
            resource_delete(rule)
        for rule in rules:
            services.promotion_rule_save(promotion_rule=rule)

    @admin.action(description="Disable the selected promotions", permissions=["change"])
    def disable_promotions(self, request: HttpRequest, queryset: QuerySet[Promotion]) -> None:
        for promotion in queryset:
            services.promotion_disable(promotion=promotion)
        self.message_user(request, f"{queryset.count()} promotion(s) disabled.", messages.SUCCESS)

    @admin.action(description="Enable the selected promotions", permissions=["change"])
    def enable_promotions(self, request: HttpRequest, queryset: QuerySet[Promotion]) -> None:
        for promotion in queryset:
            services.promotion_enable(promotion=promotion)
        self.message_user(request, f"{queryset.count()} promotion(s) enabled.", messages.SUCCESS)


# --- coupons ----------------------------------------------------------------------------------


class CouponRuleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.promotion.name} ({obj.promotion.get_type_display()})"


class CouponForm(DomainCheckedForm):
    promotion_rule = CouponRuleChoiceField(
        queryset=PromotionRule.objects.filter(type=PromotionRule.Type.COUPON_CODES)
        .select_related("promotion")
        .order_by("promotion__name", "pk"),
        label="Promotion",
        help_text="The promotions that have a coupon codes rule.",
    )

    class Meta:
        model = Coupon
        fields = (
            "promotion_rule",
            "code",
            "customer_single_use",
            "usage_limit",
            "recipient_email",
            "expires_at",
            "reference",
            "reference_origin",
            "metadata",
        )

    def domain_check(self, instance: Coupon) -> None:
        services.coupon_check(coupon=instance)


@admin.register(Coupon)
class CouponAdmin(ServiceModelAdmin):
    form = CouponForm
    list_display = (
        "code",
        "promotion",
        "usage",
        "customer_single_use",
        "expires_at",
        "recipient_email",
    )
    list_filter = ("customer_single_use", "promotion_rule", "promotion_rule__promotion__market")
    search_fields = ("code", "recipient_email", "promotion_rule__promotion__name")
    list_select_related = ("promotion_rule__promotion",)
    readonly_fields = ("id", "usage_count", "created_at", "updated_at")

    @display(description="promotion", ordering="promotion_rule__promotion__name")
    def promotion(self, coupon: Coupon) -> str:
        return coupon.promotion_rule.promotion.name

    @display(description="usage", ordering="usage_count")
    def usage(self, coupon: Coupon) -> str:
        limit = coupon.usage_limit
        return f"{coupon.usage_count} / {limit if limit is not None else '∞'}"

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if not change:
            services.coupon_save(coupon=obj)
            return
        # the row is re-read under its lock: the usage count moves while the page is open
        values = {name: getattr(obj, name) for name in form.fields if hasattr(Coupon, name)}
        services.coupon_update(coupon=obj, data=values)
