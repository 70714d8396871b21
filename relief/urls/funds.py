from django.urls import path

from relief.views import funds

app_name = "funds"

urlpatterns = [
    path("", funds.funds, name="overview"),
]
