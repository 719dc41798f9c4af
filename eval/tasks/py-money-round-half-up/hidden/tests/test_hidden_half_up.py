import unittest
from decimal import Decimal

from tally import format_money, invoice_total, round_money


class HalfUpTest(unittest.TestCase):
    def test_rounds_exact_halves_up(self):
        self.assertEqual(round_money(0.125), 0.13)
        self.assertEqual(round_money(0.375), 0.38)
        self.assertEqual(round_money(2.5, 0), 3.0)

    def test_rounds_halves_as_written(self):
        self.assertEqual(round_money(2.675), 2.68)
        self.assertEqual(round_money(1.005), 1.01)
        self.assertEqual(round_money(1.015), 1.02)
        self.assertEqual(round_money(8.345), 8.35)

    def test_rounds_negative_halves_away_from_zero(self):
        self.assertEqual(round_money(-0.125), -0.13)
        self.assertEqual(round_money(-2.675), -2.68)

    def test_rounds_decimal_amounts(self):
        self.assertEqual(round_money(Decimal("2.675")), 2.68)
        self.assertEqual(round_money(Decimal("0.125")), 0.13)

    def test_formats_and_totals_with_half_up(self):
        self.assertEqual(format_money(1234.565), "1,234.57")
        self.assertEqual(invoice_total([(1, 1.005), (1, 2.675)]), 3.69)

    def test_non_halves_unchanged(self):
        self.assertEqual(round_money(19.999), 20.0)
        self.assertEqual(round_money(0.1 + 0.2), 0.3)
        self.assertEqual(round_money(3.14159, 3), 3.142)


if __name__ == "__main__":
    unittest.main()
