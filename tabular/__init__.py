"""Spreadsheets in and out, for every app: reading CSV and XLSX files into rows with their
spreadsheet row numbers, under the limits hostile files need (tables), the row-level error every
import reports (tables.RowError), and the one formula guard for every cell written (formulas).
"""
