import unittest
from decimal import Decimal

from tally import format_money, invoice_total, round_money


class MoneyTest(unittest.TestCase):
    def test_rounds_to_cents(self):
        self.assertEqual(round_money(19.999), 20.0)
        self.assertEqual(round_money(3.14159), 3.14)
        self.assertEqual(round_money(Decimal("7.004")), 7.0)
        self.assertEqual(round_money(5), 5.0)

    def test_rounds_to_other_places(self):
        self.assertEqual(round_money(3.14159, 3), 3.142)

    def test_formats_money(self):
        self.assertEqual(format_money(1234.5), "1,234.50")
        self.assertEqual(format_money(-0.5), "-0.50")

    def test_invoice_total(self):
        self.assertEqual(invoice_total([(3, 9.99), (1, 0.5)], tax_rate=0.2), 36.56)
        self.assertEqual(invoice_total([]), 0.0)


if __name__ == "__main__":
    unittest.main()
