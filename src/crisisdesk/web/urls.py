"""Page URLs. Polled fragments end in `live/` (a future idle-timeout must not count them as activity)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from crisisdesk.web.views import auth, console, floor, queue

urlpatterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", auth.home, name="home"),
    # Telecommunicator console
    path("console/", console.console, name="console"),
    path("console/calls/<int:call_id>/", console.console, name="console_call"),
    path("console/calls/new/", console.console_intake, name="console_intake"),
    path("console/calls/<int:call_id>/screen/", console.console_screen, name="console_screen"),
    path("console/calls/<int:call_id>/transfer/", console.console_transfer, name="console_transfer"),
    path("console/calls/<int:call_id>/fallback/", console.console_fallback, name="console_fallback"),
    path("console/transfers/<int:transfer_id>/cancel/", console.console_cancel, name="console_cancel"),
    path(
        "console/transfers/<int:transfer_id>/live/", console.transfer_status_live, name="transfer_status_live"
    ),
    path("console/calls/live/", console.console_calls_live, name="console_calls_live"),
    path("console/alerts/live/", console.console_alerts_live, name="console_alerts_live"),
    # Social worker queue and call
    path("queue/", queue.queue, name="queue"),
    path("queue/live/", queue.queue_live, name="queue_live"),
    path("queue/availability/", queue.queue_availability, name="queue_availability"),
    path("queue/transfers/<int:transfer_id>/claim/", queue.queue_claim, name="queue_claim"),
    path("queue/transfers/<int:transfer_id>/decline/", queue.queue_decline, name="queue_decline"),
    path("calls/<int:call_id>/", queue.call_detail, name="call_detail"),
    path("transfers/<int:transfer_id>/complete/", queue.transfer_complete, name="transfer_complete"),
    path("transfers/<int:transfer_id>/escalate/", queue.transfer_escalate, name="transfer_escalate"),
    # Supervisor and evaluator
    path("floor/", floor.floor, name="floor"),
    path("floor/live/", floor.floor_live, name="floor_live"),
    path("evaluation/", floor.evaluation, name="evaluation"),
]
