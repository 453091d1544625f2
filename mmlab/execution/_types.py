"""Order vocabulary: sides, order types, time in force, statuses, and the events an order sees."""

from __future__ import annotations

from enum import Enum

__all__ = ["OrderEventKind", "OrderStatus", "OrderType", "Side", "TimeInForce"]


class Side(int, Enum):
    """Order side; its value is the sign of the position change a fill causes."""

    BUY = 1
    SELL = -1


class OrderType(str, Enum):  # noqa: UP042 -- StrEnum would change str(member) to the bare value
    """What the order is."""

    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(str, Enum):  # noqa: UP042 -- StrEnum would change str(member) to the bare value
    """How long a limit order lives.

    ``GTC`` rests until cancelled; ``GTX`` is post-only (rejected if it would take liquidity);
    ``IOC`` fills what it can at once and the rest expires; ``FOK`` fills whole at once or expires.
    """

    GTC = "gtc"
    GTX = "gtx"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(str, Enum):  # noqa: UP042 -- StrEnum would change str(member) to the bare value
    """Where an order is in its life.

    ``NEW`` exists locally only; ``PENDING_ACK`` was sent and awaits the venue's answer;
    ``WORKING`` rests at the venue; ``PARTIALLY_FILLED`` rests with part traded;
    ``PENDING_MODIFY``/``PENDING_CANCEL`` await the answer to a modify/cancel request.
    ``FILLED``, ``CANCELLED``, ``REJECTED`` and ``EXPIRED`` are terminal.
    """

    NEW = "new"
    PENDING_ACK = "pending_ack"
    WORKING = "working"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_MODIFY = "pending_modify"
    PENDING_CANCEL = "pending_cancel"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """True for FILLED, CANCELLED, REJECTED and EXPIRED."""
        return self in _TERMINAL

    @property
    def is_live(self) -> bool:
        """True when the order may still trade at the venue (sent and not terminal)."""
        return self not in _TERMINAL and self is not OrderStatus.NEW


_TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class OrderEventKind(str, Enum):  # noqa: UP042 -- StrEnum would change str(member) to the bare value
    """Everything that can happen to an order: requests from us, answers from the venue."""

    # requests sent by the order manager
    SUBMIT = "submit"
    MODIFY = "modify"
    CANCEL = "cancel"
    # answers and reports from the venue
    ACK = "ack"
    REJECT = "reject"
    FILL = "fill"
    MODIFY_ACK = "modify_ack"
    MODIFY_REJECT = "modify_reject"
    CANCEL_ACK = "cancel_ack"
    CANCEL_REJECT = "cancel_reject"
    EXPIRE = "expire"
    VENUE_CANCEL = "venue_cancel"
