from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("payouts/", views.payout_report, name="payout_report"),
    path("ledger/", views.ledger_export, name="ledger"),
    path("notice/", views.public_notice, name="notice"),
    path("notices/<int:pk>/", views.notice_print, name="notice_print"),
    path("statement/", views.worker_statement, name="statement"),
    path("cases/<int:pk>/approval-form/", views.approval_form, name="approval_form"),
    path("cases/approval-form/", views.approval_form_by_reference, name="approval_form_lookup"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job"),
    path("jobs/<uuid:pk>/download/", views.job_download, name="job_download"),
]
