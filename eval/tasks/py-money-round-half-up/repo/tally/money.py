"""Rounding and formatting amounts of money."""


def round_money(amount, places=2):
    """amount rounded to `places` decimals, half up (away from zero)."""
    return round(float(amount), places)


def format_money(amount):
    """amount rounded to cents and written with thousands separators: 1,234.50."""
    return f"{round_money(amount):,.2f}"


def invoice_total(lines, tax_rate=0.0):
    """The total of (quantity, unit price) lines plus tax, each line and the tax rounded to cents."""
    subtotal = sum(round_money(quantity * price) for quantity, price in lines)
    tax = round_money(subtotal * tax_rate)
    return round_money(subtotal + tax)
