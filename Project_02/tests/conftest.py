"""Fixtures shared by the Project_02 tests."""
