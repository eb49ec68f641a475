"""Sessions and handoffs: types, importing and the manager."""
