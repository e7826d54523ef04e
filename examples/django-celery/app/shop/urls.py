from django.urls import path

from shop import views

urlpatterns = [
    path("health", views.health),
    path("ready", views.ready),
    path("orders", views.create_order),
    path("orders/<int:order_id>", views.get_order),
    path("ticks", views.ticks),
]
