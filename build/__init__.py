"""coalition_news: validated tables from Arabic news on the coalition against ISIS.

``from coalition_news import load; quotes = load("quotes")`` reads one table with its declared dtypes.
"""

from .load import load

__all__ = ["load"]
