package forward

import "time"

// Defaults of Forwarder's tuning, in one place.
const (
	// DefaultWorkers is how many deliveries are sent at once.
	DefaultWorkers = 4
	// DefaultRelayInterval is how often the relay looks for pending
	// deliveries when it is not kicked; it bounds the added latency.
	DefaultRelayInterval = 50 * time.Millisecond
	// DefaultRelayBatch is how many pending deliveries one relay pass publishes.
	DefaultRelayBatch = 200
	// DefaultBackoffBase and DefaultBackoffMax bound the delay before a
	// retry: base·2^(attempt-1), capped, with equal jitter (half fixed,
	// half random) so that retries to a partner that comes back spread out.
	DefaultBackoffBase = 500 * time.Millisecond
	DefaultBackoffMax  = 5 * time.Minute
	// DefaultDeadAfter is how long a delivery is retried before it is
	// parked as dead and the alert metric fires.
	DefaultDeadAfter = 24 * time.Hour
	// DefaultHTTPTimeout bounds one POST to a partner (a hanging partner).
	DefaultHTTPTimeout = 20 * time.Second
	// DefaultStaleAfter is how long a published delivery may see no
	// activity before the sweeper sends it to the relay again; it must
	// exceed DefaultBackoffMax plus the queue's ack wait.
	DefaultStaleAfter = 15 * time.Minute
	// queueWait is how long a worker waits on the queue per call.
	queueWait = time.Second
	// errorPause is how long a loop waits after an error of the store or queue.
	errorPause = 500 * time.Millisecond
	// inProgressEvery is how often a worker tells the queue it still holds
	// a delivery during a POST; it must be well below the queue's ack wait.
	inProgressEvery = 250 * time.Millisecond
	// errorLogEvery bounds how often a loop logs the same outage.
	errorLogEvery = 30 * time.Second
	// maxResponseSize bounds what is read of a partner's response.
	maxResponseSize = 64 << 10
)
