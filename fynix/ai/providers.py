"""Assistant providers: a local, rule-based one (default) and an OpenAI-compatible client."""

from __future__ import annotations

import http.client
import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Protocol

from fynix.errors import APIError

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 1_000_000


@dataclass(frozen=True)
class HoldingContext:
    """One holding as the assistant sees it."""

    symbol: str
    quantity: Decimal
    market_value: Decimal
    unrealized_pnl: Decimal
    weight: Decimal | None
    price_source: str


@dataclass(frozen=True)
class PortfolioContext:
    """The user's own portfolio numbers, the only data an assistant answers from."""

    positions_count: int
    total_cost: Decimal
    market_value: Decimal
    unrealized_pnl: Decimal
    unrealized_pnl_pct: Decimal | None
    holdings: tuple[HoldingContext, ...]

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> PortfolioContext:
        """Build from the portfolio service's ``get_summary`` dict."""
        keys = HoldingContext.__dataclass_fields__
        holdings = tuple(
            HoldingContext(**{key: item[key] for key in keys}) for item in summary["holdings"]
        )
        return cls(
            positions_count=summary["positions_count"],
            total_cost=summary["total_cost"],
            market_value=summary["market_value"],
            unrealized_pnl=summary["unrealized_pnl"],
            unrealized_pnl_pct=summary["unrealized_pnl_pct"],
            holdings=holdings,
        )

    def to_json(self) -> str:
        """JSON with decimals as strings, as the API serializes them."""
        return json.dumps(asdict(self), default=str)


class AssistantProvider(Protocol):
    """Anything that answers a prompt about a portfolio."""

    def answer(self, prompt: str, context: PortfolioContext) -> str:
        """Return the answer text; raise APIError(503) when unavailable."""
        ...


def get_provider(app_config: Mapping[str, Any]) -> AssistantProvider:
    """The provider named by AI_PROVIDER ("local" or "openai")."""
    name = str(app_config.get("AI_PROVIDER") or "local").strip().lower()
    if name == "local":
        return LocalPortfolioAssistant()
    if name == "openai":
        return OpenAICompatibleProvider.from_config(app_config)
    raise RuntimeError(f"AI_PROVIDER must be 'local' or 'openai', got {name!r}")


class OpenAICompatibleProvider:
    """Chat-completions client (stdlib urllib) for any OpenAI-compatible server."""

    SYSTEM_PROMPT = (
        "You are Fynix's portfolio assistant. Answer the user's question using only "
        "their portfolio below; amounts are exact decimals, weights are fractions of "
        "the market value, unrealized_pnl_pct is a percentage. Portfolio (JSON): "
    )

    def __init__(self, api_base: str, api_key: str, model: str, timeout: float) -> None:
        if not re.match(r"^https?://", api_base or ""):
            raise RuntimeError("AI_API_BASE must be an http(s) URL when AI_PROVIDER=openai")
        self.url = f"{api_base.rstrip('/')}/chat/completions"
        self.api_key = api_key
        self.model = model
        self.timeout = timeout

    @classmethod
    def from_config(cls, app_config: Mapping[str, Any]) -> OpenAICompatibleProvider:
        """Read AI_API_BASE, AI_API_KEY, AI_MODEL and AI_TIMEOUT."""
        return cls(
            app_config.get("AI_API_BASE", ""),
            app_config.get("AI_API_KEY", ""),
            app_config.get("AI_MODEL", ""),
            float(app_config.get("AI_TIMEOUT", 20.0)),
        )

    def answer(self, prompt: str, context: PortfolioContext) -> str:
        """Ask the server; any network, HTTP or format problem is a 503."""
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": self.SYSTEM_PROMPT + context.to_json()},
                {"role": "user", "content": prompt},
            ],
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(  # noqa: S310  (scheme checked in __init__)
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = json.loads(response.read(MAX_ANSWER_BYTES))
            text = payload["choices"][0]["message"]["content"]
        except (OSError, http.client.HTTPException, ValueError, LookupError, TypeError) as exc:
            log.warning("assistant provider failed: %s", exc.__class__.__name__)
            raise APIError("The assistant is unavailable.", 503) from None
        if not isinstance(text, str) or not text.strip():
            log.warning("assistant provider returned no text")
            raise APIError("The assistant is unavailable.", 503)
        return text.strip()


# -- the local assistant ------------------------------------------------------------------

HELP_TEXT = (
    'I answer questions about your own portfolio. Try: "What is my largest holding?", '
    '"What is my total P&L?", "How diversified am I?", "How many positions do I have?", '
    'or name a symbol you hold, e.g. "How is AAPL doing?".'
)
EMPTY_TEXT = (
    "You have no positions yet, so there is nothing to analyse. Add one with "
    "POST /api/portfolio/positions ({symbol, quantity, average_cost}) and ask me again: "
    "I can then tell you your largest holding, your profit and loss and how diversified you are."
)
# Tickers that are also everyday words only count when written in capitals.
COMMON_WORDS = frozenset(
    {"a", "all", "am", "an", "any", "are", "at", "be", "big", "by", "can", "do", "for", "go"}
    | {"has", "he", "i", "in", "is", "it", "key", "me", "my", "new", "now", "of", "on", "one"}
    | {"or", "out", "see", "so", "to", "two", "up", "us", "we", "who"}
)


def _money(value: Decimal, signed: bool = False) -> str:
    text = format(value, "f")
    return f"+{text}" if signed and value > 0 else text


def _quantity(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _percent(fraction: Decimal | None) -> str:
    return "n/a" if fraction is None else f"{(fraction * 100).quantize(Decimal('0.01'))}%"


def _largest(context: PortfolioContext) -> HoldingContext:
    return max(context.holdings, key=lambda holding: holding.market_value)


def _at_cost(holding: HoldingContext) -> str:
    return " (no quote yet, valued at cost)" if holding.price_source == "cost" else ""


def answer_largest(context: PortfolioContext) -> str:
    """The holding with the highest market value."""
    top = _largest(context)
    return (
        f"Your largest holding is {top.symbol}: {_quantity(top.quantity)} units worth "
        f"{_money(top.market_value)}{_at_cost(top)}, {_percent(top.weight)} of your portfolio, "
        f"with an unrealized P&L of {_money(top.unrealized_pnl, signed=True)}."
    )


def answer_pnl(context: PortfolioContext) -> str:
    """Total unrealized profit and loss, with the best and worst holdings."""
    pct = context.unrealized_pnl_pct
    pct_text = "" if pct is None else f" ({_money(pct, signed=True)}%)"
    text = (
        f"Your total unrealized P&L is {_money(context.unrealized_pnl, signed=True)}{pct_text} "
        f"on a cost of {_money(context.total_cost)}; your portfolio is worth "
        f"{_money(context.market_value)}."
    )
    if len(context.holdings) > 1:
        ranked = sorted(context.holdings, key=lambda holding: holding.unrealized_pnl)
        best, worst = ranked[-1], ranked[0]
        text += (
            f" Best: {best.symbol} {_money(best.unrealized_pnl, signed=True)}; "
            f"worst: {worst.symbol} {_money(worst.unrealized_pnl, signed=True)}."
        )
    return text


def answer_concentration(context: PortfolioContext) -> str:
    """Top weight and the Herfindahl-Hirschman index of the weights."""
    weights = [holding.weight for holding in context.holdings if holding.weight is not None]
    if not weights:
        return "Your portfolio has no market value, so its concentration cannot be measured."
    hhi = sum((weight * weight for weight in weights), Decimal(0))
    top = _largest(context)
    if hhi >= Decimal("0.25"):
        verdict = "highly concentrated"
    elif hhi >= Decimal("0.15"):
        verdict = "moderately concentrated"
    else:
        verdict = "well diversified"
    effective = (Decimal(1) / hhi).quantize(Decimal("0.1")) if hhi else Decimal(0)
    return (
        f"Your portfolio is {verdict}: {top.symbol} is the top weight at {_percent(top.weight)}, "
        f"and the Herfindahl-Hirschman index of your weights is {hhi.quantize(Decimal('0.0001'))} "
        f"(like holding {effective} equally weighted positions)."
    )


def answer_count(context: PortfolioContext) -> str:
    """How many positions, and which."""
    count = context.positions_count
    noun = "position" if count == 1 else "positions"
    symbols = ", ".join(holding.symbol for holding in context.holdings)
    return f"You hold {count} {noun}: {symbols}."


def answer_symbol(holding: HoldingContext) -> str:
    """One holding in detail."""
    return (
        f"{holding.symbol}: you hold {_quantity(holding.quantity)} units worth "
        f"{_money(holding.market_value)}{_at_cost(holding)}, {_percent(holding.weight)} of your "
        f"portfolio, with an unrealized P&L of {_money(holding.unrealized_pnl, signed=True)}."
    )


def _answer_help(context: PortfolioContext) -> str:
    return HELP_TEXT


INTENTS: tuple[tuple[re.Pattern, Callable[[PortfolioContext], str]], ...] = (
    (re.compile(r"\b(largest|biggest|top holding|main holding|most valuable)\b"), answer_largest),
    (
        re.compile(r"p\s*&\s*l|\bp/l\b|\bpnl\b|\bprofit|\bloss|\bgain|\breturn|\bperformance"),
        answer_pnl,
    ),
    (re.compile(r"concentrat|diversif|\bhhi\b|herfindahl|\brisk|\bexposure"), answer_concentration),
    (
        re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b|\blist\b|what do i (own|hold)"),
        answer_count,
    ),
    (re.compile(r"\bhelp\b|what can you|how do (you|i)\b"), _answer_help),
)


def mentioned_holdings(prompt: str, context: PortfolioContext) -> list[HoldingContext]:
    """Holdings named in the prompt, in the order they are named."""
    by_symbol = {holding.symbol: holding for holding in context.holdings}
    found: dict[str, HoldingContext] = {}
    for raw in re.findall(r"[A-Za-z0-9][A-Za-z0-9.\-]*", prompt):
        token = raw.rstrip(".-")
        symbol = token.upper()
        casual = token != symbol and (symbol.lower() in COMMON_WORDS or len(symbol) == 1)
        if symbol in by_symbol and not casual:
            found.setdefault(symbol, by_symbol[symbol])
    return list(found.values())


class LocalPortfolioAssistant:
    """Answers from the user's own numbers by keyword intents; never uses the network."""

    def answer(self, prompt: str, context: PortfolioContext) -> str:
        """Answer every intent the prompt mentions, or give an overview and the help."""
        text = prompt.lower()
        wanted = [reply for pattern, reply in INTENTS if pattern.search(text)]
        if not context.holdings:
            return f"{EMPTY_TEXT}\n\n{HELP_TEXT}" if _answer_help in wanted else EMPTY_TEXT
        parts = [reply(context) for reply in wanted]
        parts += [answer_symbol(holding) for holding in mentioned_holdings(prompt, context)]
        if not parts:
            parts = [answer_count(context), answer_pnl(context), HELP_TEXT]
        return "\n\n".join(parts)
