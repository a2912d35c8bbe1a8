"""Fixtures shared by the Project_03 tests."""
