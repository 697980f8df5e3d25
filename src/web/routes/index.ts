import type { Reply } from '../context.js';
import { Router } from '../router.js';
import { api } from './api.js';
import { cancelJob, confirmCancel } from './cancel.js';
import { errors } from './errors.js';
import { bulk, confirmBulk, failed, failure, removeOne, retryOne } from './failed.js';
import { job } from './jobs.js';
import { metrics } from './metrics.js';
import { overview, statsText, working, workingOne } from './overview.js';
import {
  confirmRemoveMatching,
  confirmRemoveQueue,
  limitQueue,
  queue,
  queues,
  removeMatching,
  removeQueue,
  switchAllWorkers,
  switchQueue,
  unlimitQueue,
} from './queues.js';
import { removeRetry, retries, retryNow } from './retries.js';
import {
  clearDelayed,
  confirmClear,
  delayed,
  delayedAt,
  delayedCount,
  queueNow,
  removeDelayed,
  runSchedule,
  schedule,
  searchDelayed,
  switchSchedule,
} from './scheduling.js';
import { key, keys, redisStats, resqueStats } from './stats.js';
import { workerOrHost, workers } from './workers.js';

const redirect = (to: string) => async (): Promise<Reply> => ({ kind: 'redirect', to });
/** Clears the sign-in cookie (token mode); the next page asks for the token again. */
const signOut = async (): Promise<Reply> => ({ kind: 'redirect', to: '/overview', signOut: true });

/** Every page and action: resque-web's paths where it has one, every mutation a POST. */
export const routes = new Router()
  .get('/', redirect('/overview'))
  .get('/sign-in', redirect('/overview'))
  .post('/sign-out', signOut)
  .get('/overview', overview)
  .get('/working', working)
  .get('/working/:id', workingOne)
  .get('/queues', queues)
  .get('/queues/:name', queue)
  .get('/queues/:name/remove', confirmRemoveQueue)
  .post('/queues/:name/remove', removeQueue)
  .get('/queues/:name/remove-matching', confirmRemoveMatching)
  .post('/queues/:name/remove-matching', removeMatching)
  .post('/queues/:name/pause', switchQueue(true))
  .post('/queues/:name/resume', switchQueue(false))
  .post('/queues/:name/limit', limitQueue)
  .post('/queues/:name/unlimit', unlimitQueue)
  .post('/workers/pause-all', switchAllWorkers(true))
  .post('/workers/resume-all', switchAllWorkers(false))
  .get('/workers', workers)
  .get('/workers/:name', workerOrHost)
  .get('/delayed', delayed)
  .get('/delayed/search', searchDelayed)
  .get('/delayed/clear', confirmClear)
  .post('/delayed/clear', clearDelayed)
  .post('/delayed/queue-now', queueNow)
  .post('/delayed/remove', removeDelayed)
  .get('/delayed/:ts', delayedAt)
  .get('/jobs/:id/cancel', confirmCancel)
  .post('/jobs/:id/cancel', cancelJob)
  .get('/retries', retries)
  .post('/retries/retry-now', retryNow)
  .post('/retries/remove', removeRetry)
  .get('/schedule', schedule)
  .post('/schedule/run', runSchedule)
  .post('/schedule/enable', switchSchedule(true))
  .post('/schedule/disable', switchSchedule(false))
  .get('/failed', failed)
  .get('/failed/bulk/:action', confirmBulk)
  .post('/failed/bulk/:action', bulk)
  .post('/failed/retry', retryOne)
  .post('/failed/remove', removeOne)
  .get('/failed/:list', failed)
  .get('/failure/:id', failure)
  .get('/jobs/:id', job)
  .get('/errors', errors)
  .get('/stats', redirect('/stats/resque'))
  .get('/stats/resque', resqueStats)
  .get('/stats/redis', redisStats)
  .get('/stats/keys', keys)
  .get('/stats/keys/:key', key)
  .get('/stats.txt', statsText)
  .get('/metrics', metrics)
  .get('/api', api.index)
  .get('/api/csrf', api.csrf)
  .get('/api/overview', api.overview)
  .get('/api/queues', api.queues)
  .get('/api/queues/:name', api.queue)
  .get('/api/queues/:name/count', api.queueCount)
  .post('/api/queues/:name/remove', removeQueue)
  .post('/api/queues/:name/remove-matching', removeMatching)
  .post('/api/queues/:name/pause', switchQueue(true))
  .post('/api/queues/:name/resume', switchQueue(false))
  .post('/api/queues/:name/limit', limitQueue)
  .post('/api/queues/:name/unlimit', unlimitQueue)
  .get('/api/limits', api.limits)
  .post('/api/workers/pause-all', switchAllWorkers(true))
  .post('/api/workers/resume-all', switchAllWorkers(false))
  .get('/api/workers', api.workers)
  .get('/api/workers/:id', api.worker)
  .get('/api/failed', api.failed)
  .get('/api/failed/count', api.failedCount)
  .get('/api/failed/:id', api.failure)
  .post('/api/failed/bulk/:action', bulk)
  .post('/api/failed/:id/retry', retryOne)
  .post('/api/failed/:id/remove', removeOne)
  .get('/api/jobs/:id', job)
  .post('/api/jobs/:id/cancel', cancelJob)
  .get('/api/retries', retries)
  .post('/api/retries/retry-now', retryNow)
  .post('/api/retries/remove', removeRetry)
  .get('/api/errors', api.errors)
  .get('/api/stats', api.stats)
  .get('/api/redis', api.redis)
  .get('/api/keys', api.keys)
  .get('/api/keys/:key', api.key)
  .get('/api/delayed', delayed)
  .get('/api/delayed/search', searchDelayed)
  .get('/api/delayed/count', delayedCount)
  .post('/api/delayed/clear', clearDelayed)
  .get('/api/delayed/:ts', delayedAt)
  .post('/api/delayed/:ts/queue-now', queueNow)
  .post('/api/delayed/:ts/remove', removeDelayed)
  .get('/api/schedule', schedule)
  .post('/api/schedule/:name/run', runSchedule)
  .post('/api/schedule/:name/enable', switchSchedule(true))
  .post('/api/schedule/:name/disable', switchSchedule(false));
