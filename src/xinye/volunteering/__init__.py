"""Vanguard posts, volunteer teams, activities, shifts, sign-ups and attendance (issue 14)."""
