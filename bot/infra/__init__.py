"""Infrastructure the features stand on: the LLM client, the outbox and its delivery worker,
the scheduler's election, reps' time zones, access checks, Slack start-up checks, memory
set-up, re-filing and the guards before every listener."""
