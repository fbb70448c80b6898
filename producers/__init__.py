"""Publishing API for frontends and the demo: validated commands onto Kafka."""
