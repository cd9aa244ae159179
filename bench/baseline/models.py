from django.db import models


class StockItem(models.Model):
    sku_code = models.CharField(max_length=50, unique=True)
    quantity = models.IntegerField()


class Order(models.Model):
    status = models.CharField(max_length=20, default="pending")
    currency_code = models.CharField(max_length=3, default="EUR")
    total_amount_cents = models.IntegerField(default=0)
    customer_email = models.CharField(max_length=255, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    placed_at = models.DateTimeField(null=True)


class LineItem(models.Model):
    order = models.ForeignKey(Order, related_name="line_items", on_delete=models.CASCADE)
    sku_code = models.CharField(max_length=50)
    quantity = models.IntegerField()
    unit_amount_cents = models.IntegerField()
    total_amount_cents = models.IntegerField()


class Authorization(models.Model):
    order = models.ForeignKey(Order, related_name="authorizations", on_delete=models.CASCADE)
    amount_cents = models.IntegerField()
    succeeded = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
