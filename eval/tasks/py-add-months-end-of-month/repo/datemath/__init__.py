"""Calendar arithmetic on dates: months, years and month ends."""

from .core import add_months, add_years, end_of_month, months_between

__all__ = ["add_months", "add_years", "end_of_month", "months_between"]
