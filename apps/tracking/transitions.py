"""The alert lifecycle: open → acknowledged → resolved; an open alert may be resolved at once
(the goods are back in the corridor, or a person saw it and dealt with it)."""

from apps.core.lifecycle import Transitions
from apps.tracking.models import AlertStatus as S

ALERT = Transitions(
    {S.OPEN: {S.ACKNOWLEDGED, S.RESOLVED}, S.ACKNOWLEDGED: {S.RESOLVED}},
    noun="An alert",
    history="tracking.AlertStatusChange",
)
