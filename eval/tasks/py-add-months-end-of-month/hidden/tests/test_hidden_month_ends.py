import unittest
from datetime import date, datetime

from datemath import add_months, add_years


class MonthEndClampTest(unittest.TestCase):
    def test_clamps_to_february_in_a_leap_year(self):
        self.assertEqual(add_months(date(2024, 1, 31), 1), date(2024, 2, 29))

    def test_clamps_to_february_in_a_common_year(self):
        self.assertEqual(add_months(date(2023, 1, 31), 1), date(2023, 2, 28))
        self.assertEqual(add_months(date(2023, 3, 30), -1), date(2023, 2, 28))

    def test_clamps_to_thirty_day_months(self):
        self.assertEqual(add_months(date(2024, 3, 31), 1), date(2024, 4, 30))
        self.assertEqual(add_months(date(2024, 8, 31), -2), date(2024, 6, 30))
        self.assertEqual(add_months(date(2024, 10, 31), 13), date(2025, 11, 30))

    def test_leap_day_plus_a_year(self):
        self.assertEqual(add_years(date(2024, 2, 29), 1), date(2025, 2, 28))
        self.assertEqual(add_years(date(2024, 2, 29), 4), date(2028, 2, 29))

    def test_clamping_keeps_time_of_day(self):
        self.assertEqual(add_months(datetime(2024, 1, 31, 23, 59, 1), 1), datetime(2024, 2, 29, 23, 59, 1))

    def test_days_that_exist_are_unchanged(self):
        self.assertEqual(add_months(date(2024, 1, 28), 1), date(2024, 2, 28))
        self.assertEqual(add_months(date(2024, 2, 29), 1), date(2024, 3, 29))


if __name__ == "__main__":
    unittest.main()
