"""Fixtures shared by the Project_01 tests."""
