-- Tossed posts by the MSGID they reply to, in their echo: each tossed
-- post with a MSGID looks for the replies that arrived before it (to
-- thread them under it). Without this index that search read every post
-- of the echo's area, inside the toss's write transaction: 230 ms a
-- message in an echo of 200,000 posts, callers' writes waiting on it.
CREATE INDEX ftn_posts_reply ON ftn_posts (area_tag, reply) WHERE reply IS NOT NULL;

-- The newest post ever exported, which each scan (every 30 s) asks for:
-- without this index the question read every FTN post of the board.
CREATE INDEX ftn_posts_exported ON ftn_posts (message_id) WHERE inbound = 0;
