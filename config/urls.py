from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _

from relief.views.health import healthz
from relief.views.home import home

admin.site.site_header = admin.site.site_title = _("Temporary Relief Management")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", home, name="home"),
    # For the load balancer and monitoring: no login, no personal data (relief.views.health).
    path("healthz", healthz, name="healthz"),
    path("", include("relief.urls")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Everyone changes their own password here (the admin's own page stays for staff). The
    # templates are not Django's registration/password_change_*.html names, which the admin's
    # page would pick up too.
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="registration/account_password.html",
            success_url=reverse_lazy("password_change_done"),
        ),
        name="password_change",
    ),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/account_password_done.html"
        ),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("funds/", include("relief.urls.funds")),
    path("admin/", admin.site.urls),
    path("reports/", include("reports.urls")),
    path("notifications/", include("notifications.urls")),
]

# A database outage met in a middleware (sessions, the signed-in user) is a 503 as well.
handler500 = "relief.views.errors.server_error"
