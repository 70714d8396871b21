from django.urls import path

from config.replica import on_replica
from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("dashboard/", on_replica(views.dashboard), name="dashboard"),
    path("overdue/", on_replica(views.overdue_report), name="overdue"),
    path("payouts/", views.payout_report, name="payout_report"),
    path("ledger/", views.ledger_export, name="ledger"),
    path("notice/", views.public_notice, name="notice"),
    path("notices/<int:pk>/", views.notice_print, name="notice_print"),
    path("statement/", views.worker_statement, name="statement"),
    path("cases/<int:pk>/approval-form/", views.approval_form, name="approval_form"),
    path("cases/approval-form/", views.approval_form_by_reference, name="approval_form_lookup"),
    path("workers/<int:pk>/statement/", views.worker_statement_of, name="worker_statement"),
    path("meetings/<int:pk>/minutes/", views.meeting_minutes, name="meeting_minutes"),
    path("batches/<int:pk>/payment-list/", views.payment_list, name="payment_list"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job"),
    path("jobs/<uuid:pk>/download/", views.job_download, name="job_download"),
]
