"""zongzhi: the system behind a governance center's one door."""
