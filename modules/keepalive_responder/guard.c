/**
 * @file guard.c  keepalive_responder -- rate limits
 *
 * A token bucket for the module's own log lines: a flood of odd requests
 * must not become a flood of log lines.
 */
#include <re.h>
#include "kar.h"


enum {
	LOG_BURST  = 10,     /**< lines allowed at once            */
	LOG_PERIOD = 1000,   /**< ms to earn one more line         */
};


/**
 * Take a token for one log line
 *
 * @param ll         Limiter state (zeroed = full bucket at first use)
 * @param now        Current time in ms (tmr_jiffies())
 * @param suppressed Lines refused since the last one allowed (output,
 *                   set when true is returned)
 *
 * @return true if the line may be logged
 */
bool kar_loglimit_take(struct kar_loglimit *ll, uint64_t now,
		       uint32_t *suppressed)
{
	uint64_t earned;

	if (!ll)
		return false;

	if (!ll->last) {
		ll->last = now ? now : 1;
		ll->tokens = LOG_BURST;
	}

	earned = now > ll->last ? (now - ll->last) / LOG_PERIOD : 0;
	if (earned) {
		uint64_t t = ll->tokens + earned;

		ll->tokens = t > LOG_BURST ? LOG_BURST : (uint32_t)t;
		ll->last += earned * LOG_PERIOD;
	}

	if (!ll->tokens) {
		++ll->suppressed;
		return false;
	}

	--ll->tokens;

	if (suppressed)
		*suppressed = ll->suppressed;
	ll->suppressed = 0;

	return true;
}
