"""Page URLs. Polled fragments end in `live/`: the idle timeout never counts them as activity
(crisisdesk.accounts.policy.is_background)."""

from django.urls import include, path, re_path

from crisisdesk.web.views import (
    auth,
    case_actions,
    casework,
    console,
    evaluation,
    floor,
    followups,
    privacy,
    queue,
)

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("login/verify/", auth.verify_view, name="login_verify"),  # the TOTP code
    path("login/enrol/", auth.enrol_view, name="login_enrol"),  # first sign-in: set up the app
    path("logout/", auth.logout_view, name="logout"),
    path("accounts/locked/", auth.locked_accounts_view, name="locked_accounts"),
    path("accounts/locked/<int:user_id>/unlock/", auth.unlock_view, name="unlock_account"),
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
    path("console/escalations/live/", console.console_escalations_live, name="console_escalations_live"),
    path(
        "console/escalations/<int:escalation_id>/acknowledge/",
        console.console_acknowledge_escalation,
        name="console_acknowledge_escalation",
    ),
    # Social worker queue and call
    path("queue/", queue.queue, name="queue"),
    path("queue/live/", queue.queue_live, name="queue_live"),
    path("queue/availability/", queue.queue_availability, name="queue_availability"),
    path("queue/transfers/<int:transfer_id>/claim/", queue.queue_claim, name="queue_claim"),
    path("queue/transfers/<int:transfer_id>/decline/", queue.queue_decline, name="queue_decline"),
    path("calls/<int:call_id>/", queue.call_detail, name="call_detail"),
    path("transfers/<int:transfer_id>/complete/", queue.transfer_complete, name="transfer_complete"),
    path("transfers/<int:transfer_id>/escalate/", queue.transfer_escalate, name="transfer_escalate"),
    # Social worker: cases (one workspace per case) and the follow-up worklist
    path("cases/", casework.my_cases, name="my_cases"),
    path("cases/new/", casework.case_new, name="case_new"),
    path("cases/<int:case_id>/", casework.case_workspace, name="case_workspace"),
    path(
        "cases/<int:case_id>/escalations/live/", casework.case_escalations_live, name="case_escalations_live"
    ),
    path("cases/<int:case_id>/people/", case_actions.case_add_person, name="case_add_person"),
    path(
        "cases/<int:case_id>/people/<int:person_id>/link/",
        case_actions.case_confirm_link,
        name="case_confirm_link",
    ),
    path("cases/<int:case_id>/links/<int:link_id>/undo/", case_actions.case_undo_link, name="case_undo_link"),
    path("cases/<int:case_id>/details/", case_actions.case_details, name="case_details"),
    path("cases/<int:case_id>/assessments/<str:instrument>/", case_actions.case_assess, name="case_assess"),
    path("cases/<int:case_id>/safety-plan/", case_actions.case_safety_plan, name="case_safety_plan"),
    path("cases/<int:case_id>/notes/", case_actions.case_note, name="case_note"),
    path("cases/<int:case_id>/escalate/", case_actions.case_escalate, name="case_escalate"),
    path(
        "cases/<int:case_id>/escalation-declined/",
        case_actions.case_escalation_declined,
        name="case_escalation_declined",
    ),
    path("cases/<int:case_id>/consents/", case_actions.case_consent, name="case_consent"),
    path(
        "cases/<int:case_id>/follow-ups/",
        case_actions.case_schedule_follow_up,
        name="case_schedule_follow_up",
    ),
    path("cases/<int:case_id>/close/", case_actions.case_close, name="case_close"),
    path("cases/<int:case_id>/reopen/", case_actions.case_reopen, name="case_reopen"),
    path("follow-ups/", followups.worklist, name="worklist"),
    path("follow-ups/<int:follow_up_id>/take/", followups.follow_up_take, name="follow_up_take"),
    path("follow-ups/<int:follow_up_id>/attempts/", followups.follow_up_attempt, name="follow_up_attempt"),
    path("follow-ups/<int:follow_up_id>/case/", followups.follow_up_open_case, name="follow_up_open_case"),
    # Supervisor and evaluator
    path("floor/", floor.floor, name="floor"),
    path("floor/live/", floor.floor_live, name="floor_live"),
    path("floor/casework/", floor.floor_casework, name="floor_casework"),
    path("floor/casework/live/", floor.floor_casework_live, name="floor_casework_live"),
    path("floor/privacy/", privacy.privacy_review, name="privacy_review"),
    path("evaluation/", floor.evaluation, name="evaluation"),
    path("evaluation/program/", evaluation.program_evaluation, name="program_evaluation"),
    path("evaluation/program/aggregates.csv", evaluation.program_export, name="program_export"),
    re_path(
        r"^evaluation/program/report\.(?P<kind>html|pdf)$", evaluation.program_report, name="program_report"
    ),
    # Service directory (web/urls_directory.py) and referrals (web/urls_referrals.py)
    path("", include("crisisdesk.web.urls_directory")),
    path("", include("crisisdesk.web.urls_referrals")),
    path("", include("crisisdesk.web.urls_part2")),  # disclosure consents (42 CFR Part 2)
]
