"""What several features share: finding the prospect a rep means, the calls still on their way
to memory, the facts computed from a prospect's calls (days of silence), a deal's rhythm (alerts
and the team view), what memory worked out, and recalling a prospect for a prompt."""
