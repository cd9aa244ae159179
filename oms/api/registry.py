"""Resource type -> serializer, for `include` and related endpoints across apps."""

SERIALIZERS: dict[str, str] = {
    "organizations": "markets.api.serializers.OrganizationSerializer",
    "applications": "oms.oauth.api.ApplicationSerializer",
    "addresses": "markets.api.serializers.AddressSerializer",
    "merchants": "markets.api.serializers.MerchantSerializer",
    "customer_groups": "markets.api.serializers.CustomerGroupSerializer",
    "shipping_categories": "markets.api.serializers.ShippingCategorySerializer",
    "price_lists": "markets.api.serializers.PriceListSerializer",
    "markets": "markets.api.serializers.MarketSerializer",
    "skus": "markets.api.serializers.SkuSerializer",
    "prices": "markets.api.serializers.PriceSerializer",
    "price_volume_tiers": "markets.api.serializers.PriceVolumeTierSerializer",
    "payment_methods": "payments.api.serializers.PaymentMethodSerializer",
    "payment_gateways": "payments.api.serializers.PaymentGatewaySerializer",
    "manual_gateways": "payments.api.serializers.ManualGatewaySerializer",
    "external_gateways": "payments.api.serializers.ExternalGatewaySerializer",
    "transactions": "payments.api.serializers.TransactionSerializer",
    "authorizations": "payments.api.serializers.AuthorizationSerializer",
    "captures": "payments.api.serializers.CaptureSerializer",
    "voids": "payments.api.serializers.VoidSerializer",
    "refunds": "payments.api.serializers.RefundSerializer",
}
