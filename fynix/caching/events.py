"""What changed, said by services after a commit; the caching package maps it to keys."""


def positions_changed(user_id: int) -> None:
    """A user's positions changed."""


def quotes_changed(symbols) -> None:
    """Quotes of these symbols changed."""


def notifications_changed(user_id: int) -> None:
    """A user's notifications changed."""


def ai_changed(user_id: int) -> None:
    """A user's AI interactions changed."""


def user_changed(user_id: int) -> None:
    """A user's profile changed."""
