from django.urls import path

from config.replica import on_replica
from relief.views import funds

app_name = "funds"

urlpatterns = [
    path("", on_replica(funds.funds), name="overview"),
    path(
        "donations/<str:town>/<int:year>/",
        on_replica(funds.donations),
        name="donations",
    ),
]
