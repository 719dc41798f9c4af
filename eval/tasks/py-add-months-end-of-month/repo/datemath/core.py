"""Month and year arithmetic for date and datetime values."""

import calendar


def end_of_month(d):
    """The last day of d's month (same type as d, time of day kept)."""
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def add_months(d, months):
    """d moved by a whole number of months (negative moves back)."""
    if not isinstance(months, int):
        raise TypeError("months must be an int")
    total = d.month - 1 + months
    year = d.year + total // 12
    month = total % 12 + 1
    return d.replace(year=year, month=month)


def add_years(d, years):
    """d moved by a whole number of years."""
    return add_months(d, 12 * years)


def months_between(start, end):
    """Whole months from start to end (negative when end is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and end.day < start.day:
        months -= 1
    elif months < 0 and end.day > start.day:
        months += 1
    return months
