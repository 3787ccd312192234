"""Every message type round-trips through its converters."""

import pytest

from shared.errors import PayloadError
from shared.messages import EnrolmentRequest, EnrolmentResponse, RoundInfo, SubmissionReceipt


@pytest.mark.parametrize(
    "msg",
    [
        EnrolmentRequest("tok", "0356", "-----BEGIN PUBLIC KEY-----", "0.1.0"),
        EnrolmentResponse("0356", "Nieuwegein", "abcd"),
        EnrolmentRequest("tok", "PO2607", "-----BEGIN PUBLIC KEY-----", "0.1.0"),
        EnrolmentResponse("PO2607", "SWV PO Lekstroom", "abcd"),
        RoundInfo(1, "2024-2025", "2024-10-01", "open", True),
        RoundInfo(1, "2024-2025", "2024-10-01", "open", True, schools=("04DA00", "05XB01")),
        SubmissionReceipt(5, 1, "ff", "accepted", 4),
    ],
)
def test_round_trip(msg):
    assert type(msg).from_dict(msg.to_dict()) == msg


def test_missing_fields_are_named():
    with pytest.raises(PayloadError, match="token"):
        EnrolmentRequest.from_dict({"gemeentecode": "0356", "public_key_pem": "", "agent_version": ""})


def test_a_node_is_named_by_the_field_of_its_kind():
    assert EnrolmentRequest("tok", "0356", "k", "1").to_dict()["gemeentecode"] == "0356"
    swv = EnrolmentRequest("tok", "PO2607", "k", "1").to_dict()
    assert swv["swv_code"] == "PO2607" and "gemeentecode" not in swv
    assert set(EnrolmentResponse("PO2607", "SWV", "ab").to_dict()) == {"swv_code", "naam", "key_id"}
    with pytest.raises(PayloadError, match="precies één"):
        EnrolmentRequest.from_dict({**swv, "gemeentecode": "0356"})


def test_a_municipality_round_has_no_school_list_and_a_bad_one_is_refused():
    assert "schools" not in RoundInfo(1, "2024-2025", "2024-10-01", "open").to_dict()
    with pytest.raises(PayloadError):
        RoundInfo.from_dict({**RoundInfo(1, "2024-2025", "2024-10-01", "open").to_dict(), "schools": ["04DA0"]})
