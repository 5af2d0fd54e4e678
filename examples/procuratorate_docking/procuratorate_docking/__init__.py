"""检调对接: a procuratorate (检察院) refers matters to a governance center for mediation.

Two kinds of matter arrive: the civil settlement of a minor criminal case (刑事和解, e.g. the
compensation a suspect pays the victim) and a public-interest matter (公益诉讼线索) the procuratorate
would rather see resolved by the parties than litigated. An example of a plugin shipped as its own
distribution: it imports only the platform's plugin API, ``zongzhi.platform.plugin_api``.
"""
