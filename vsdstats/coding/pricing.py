"""What a coding run costs: list prices per model and the cost of a result's tokens."""

from __future__ import annotations

from dataclasses import dataclass

#: USD per 1M tokens: (input, cached input, output).  Override with --price-in/--price-out.
PRICES: dict[str, tuple[float, float, float]] = {
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "gpt-4o": (2.50, 1.25, 10.00),
    "gpt-4.1": (2.00, 0.50, 8.00),
    "gpt-4.1-mini": (0.40, 0.10, 1.60),
    "gpt-4.1-nano": (0.10, 0.025, 0.40),
    "gpt-5": (1.25, 0.125, 10.00),
    "gpt-5-mini": (0.25, 0.025, 2.00),
    "gpt-5-nano": (0.05, 0.005, 0.40),
}


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens."""

    input: float
    cached_input: float
    output: float

    def cost(self, prompt: int, completion: int, cached: int = 0, factor: float = 1.0) -> float:
        fresh = max(prompt - cached, 0)
        usd = fresh * self.input + cached * self.cached_input + completion * self.output
        return usd / 1e6 * factor


def price_for(
    model: str, price_in: float | None = None, price_out: float | None = None
) -> Price | None:
    """The price of ``model`` (longest matching name in PRICES), with overrides; None if unknown."""
    base = None
    for name in sorted(PRICES, key=len, reverse=True):
        if model == name or model.startswith(name + "-"):
            base = PRICES[name]
            break
    if price_in is not None and price_out is not None:
        return Price(price_in, base[1] if base else price_in, price_out)
    if base is None:
        return None
    return Price(
        price_in if price_in is not None else base[0],
        base[1],
        price_out if price_out is not None else base[2],
    )
