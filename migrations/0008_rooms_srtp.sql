-- 0008: a room's SRTP policy (issue 7). NULL follows the system-wide sip.srtp
-- setting; 'required' refuses endpoints that offer plain RTP only (488),
-- 'preferred' encrypts whenever the endpoint offers SDES-SRTP, 'off' answers
-- plain RTP. A room holding confidential meetings is set to required without
-- forcing every other room's legacy endpoints off the bridge.
--
-- Personal data in this file: none.

ALTER TABLE rooms ADD COLUMN srtp_policy text
    CHECK (srtp_policy IN ('required', 'preferred', 'off'));

COMMENT ON COLUMN rooms.srtp_policy IS 'SRTP policy of the room: required, preferred or off; NULL: the system default (sip.srtp).';
