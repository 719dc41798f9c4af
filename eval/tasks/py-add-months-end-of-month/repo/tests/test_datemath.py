import unittest
from datetime import date, datetime

from datemath import add_months, add_years, end_of_month, months_between


class AddMonthsTest(unittest.TestCase):
    def test_adds_months_within_a_year(self):
        self.assertEqual(add_months(date(2024, 1, 15), 1), date(2024, 2, 15))

    def test_crosses_year_boundaries(self):
        self.assertEqual(add_months(date(2023, 11, 10), 3), date(2024, 2, 10))
        self.assertEqual(add_months(date(2024, 1, 10), -1), date(2023, 12, 10))
        self.assertEqual(add_months(date(2024, 3, 1), -27), date(2021, 12, 1))

    def test_keeps_time_of_day(self):
        self.assertEqual(add_months(datetime(2024, 5, 3, 14, 30), 2), datetime(2024, 7, 3, 14, 30))

    def test_rejects_fractional_months(self):
        with self.assertRaises(TypeError):
            add_months(date(2024, 1, 1), 1.5)

    def test_adds_years(self):
        self.assertEqual(add_years(date(2023, 6, 1), -3), date(2020, 6, 1))


class MonthEndTest(unittest.TestCase):
    def test_end_of_month(self):
        self.assertEqual(end_of_month(date(2024, 2, 10)), date(2024, 2, 29))
        self.assertEqual(end_of_month(date(2023, 2, 10)), date(2023, 2, 28))

    def test_months_between(self):
        self.assertEqual(months_between(date(2024, 1, 15), date(2024, 4, 15)), 3)
        self.assertEqual(months_between(date(2024, 1, 15), date(2024, 4, 14)), 2)
        self.assertEqual(months_between(date(2024, 4, 15), date(2024, 1, 15)), -3)


if __name__ == "__main__":
    unittest.main()
