from django.urls import path

from bench.baseline import views

urlpatterns = [
    path("place", views.place),
    path("orders/<int:pk>", views.order_get),
]
