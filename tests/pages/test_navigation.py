"""The app shell: navigation over the pages, and a sidebar agent filter shared by all of them."""

from pagetools import ROOT
from streamlit.testing.v1 import AppTest


def test_the_agent_filter_follows_the_user_across_pages(sample_config):
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not app.exception
    assert app.title[0].value == "Memory overview"
    app.selectbox(key="alma_agent").set_value("victor").run()
    app.switch_page("pages/memories.py").run()
    assert not app.exception
    assert app.title[0].value == "Memories"
    assert app.selectbox(key="alma_agent").value == "victor"
    assert set(app.dataframe[0].value["owner"]) == {"victor"}
    app.switch_page("pages/review.py").run()
    assert app.selectbox(key="alma_agent").value == "victor"
    assert "6 pending" in app.get("progress")[0].proto.text
