"""Page URLs. Polled fragments end in `live/` (a future idle-timeout must not count them as activity)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from crisisdesk.web import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    # Telecommunicator console
    path("console/", views.console, name="console"),
    path("console/calls/<int:call_id>/", views.console, name="console_call"),
    path("console/calls/new/", views.console_intake, name="console_intake"),
    path("console/calls/<int:call_id>/screen/", views.console_screen, name="console_screen"),
    path("console/calls/<int:call_id>/transfer/", views.console_transfer, name="console_transfer"),
    path("console/calls/<int:call_id>/fallback/", views.console_fallback, name="console_fallback"),
    path("console/transfers/<int:transfer_id>/cancel/", views.console_cancel, name="console_cancel"),
    path(
        "console/transfers/<int:transfer_id>/live/", views.transfer_status_live, name="transfer_status_live"
    ),
    path("console/calls/live/", views.console_calls_live, name="console_calls_live"),
    path("console/alerts/live/", views.console_alerts_live, name="console_alerts_live"),
    # Social worker queue and call
    path("queue/", views.queue, name="queue"),
    path("queue/live/", views.queue_live, name="queue_live"),
    path("queue/availability/", views.queue_availability, name="queue_availability"),
    path("queue/transfers/<int:transfer_id>/claim/", views.queue_claim, name="queue_claim"),
    path("queue/transfers/<int:transfer_id>/decline/", views.queue_decline, name="queue_decline"),
    path("calls/<int:call_id>/", views.call_detail, name="call_detail"),
    path("transfers/<int:transfer_id>/complete/", views.transfer_complete, name="transfer_complete"),
    path("transfers/<int:transfer_id>/escalate/", views.transfer_escalate, name="transfer_escalate"),
    # Supervisor and evaluator
    path("floor/", views.floor, name="floor"),
    path("floor/live/", views.floor_live, name="floor_live"),
    path("evaluation/", views.evaluation, name="evaluation"),
]
