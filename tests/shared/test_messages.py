"""Every message type round-trips through its converters."""

import pytest

from shared.errors import PayloadError
from shared.messages import EnrolmentRequest, EnrolmentResponse, RoundInfo, SubmissionReceipt


@pytest.mark.parametrize(
    "msg",
    [
        EnrolmentRequest("tok", "0356", "-----BEGIN PUBLIC KEY-----", "0.1.0"),
        EnrolmentResponse("0356", "Nieuwegein", "abcd"),
        RoundInfo(1, "2024-2025", "2024-10-01", "open", True),
        SubmissionReceipt(5, 1, "ff", "accepted", 4),
    ],
)
def test_round_trip(msg):
    assert type(msg).from_dict(msg.to_dict()) == msg


def test_missing_fields_are_named():
    with pytest.raises(PayloadError, match="token"):
        EnrolmentRequest.from_dict({"gemeentecode": "0356", "public_key_pem": "", "agent_version": ""})
