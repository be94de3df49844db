"""A pytest plugin (``-p helpers.markers``) that prints each collected test's markers
after collection, one line each: ``MARKERS <nodeid> <name,name,...>``. One collection
then says which tests are slow and which end to end (tests/conftest.py adds those markers
while collecting), where asking ``-m slow`` and ``-m e2e`` took a collection each."""


def pytest_collection_finish(session):
    for item in session.items:
        names = sorted({m.name for m in item.iter_markers()})
        print(f"MARKERS {item.nodeid} {','.join(names)}")
