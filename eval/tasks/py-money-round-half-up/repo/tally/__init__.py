"""Money helpers: rounding to cents, formatting, invoice totals."""

from .money import format_money, invoice_total, round_money

__all__ = ["format_money", "invoice_total", "round_money"]
