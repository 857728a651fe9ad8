// Whether a NosanaJob with no job and no post in flight posts now (the post rows of decide.ts's
// table): every check that can refuse a post runs on what was read, before anything is pinned or
// paid; a job this object posted before it was recreated without its records is recorded instead
// of posting again; the payment itself answers to may-pay.ts. Pure: post.ts reads and acts.
import type { NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import { formatNos, listCharge } from '../../chain/money.ts';
import { setCondition } from '../../runtime/conditions.ts';
import { nextBindingAttempt } from './binding.ts';
import { findPublicCredentials, publicCredentialsMessage } from './credentials.ts';
import { Draft, postingPollMs } from './decision.ts';
import type { Decision, DecisionSettings, PostWorld } from './decision.ts';
import { isoSeconds } from './job-status.ts';
import { mayPay } from './may-pay.ts';
import { isRefusal, refusal, retryOf } from './refusal.ts';
import type { Refusal } from './refusal.ts';

export function decidePost(status: NosanaJobStatus, world: PostWorld, settings: DecisionSettings): Decision {
  const draft = new Draft(status, settings);
  const { definition, market, wallet, found } = world;
  if (isRefusal(definition)) return refuse(draft, definition);
  const credentials = findPublicCredentials(definition.definition);
  if (credentials.length > 0 && settings.allowPublicCredentials !== true)
    return refuse(draft, refusal('PublicCredentials', publicCredentialsMessage(credentials), 'edit'));
  if (market === undefined || isRefusal(market)) return refuse(draft, market ?? unread('the market'));
  if (wallet === undefined || isRefusal(wallet)) return refuse(draft, wallet ?? unread('the wallet'));
  // Before anything is checked against money: a job found on chain was paid for already.
  if (found !== undefined) {
    const address = found.job.address.toBase58();
    draft.status.jobAddress = address;
    draft.updateAttempt(address, { postedAt: isoSeconds(settings.now), binding: found.attempt });
    draft.event(
      'Warning',
      'PostFound',
      `job ${address}, posted by this NosanaJob (attempt ${found.attempt + 1}) before it was recreated without its records, was found on chain and is followed; nothing was posted again`,
    );
    return draft.decided({ kind: 'recordFound', found }, { afterMs: postingPollMs(settings) });
  }
  if (world.balances === undefined) return refuse(draft, unread('the wallet balances'));
  const { daily } = world;
  if (daily !== undefined && 'error' in daily)
    return refuse(
      draft,
      refusal('SpendLimitReached', `the dailySpendLimit of market ${market.address} cannot be checked: ${daily.error}`, 'backoff'),
    );

  const account = market.view.account;
  const timeout = settings.wantedTimeout ?? account.jobTimeout;
  const charge = listCharge(market.network, account.jobPrice, timeout);
  const answer = mayPay(
    {
      kind: 'post',
      market: account,
      marketAddress: market.address,
      toNode: settings.toNode === true,
      price: account.jobPrice,
      timeout,
      charge,
      ...(settings.maxCost === undefined ? {} : { maxCost: settings.maxCost }),
      wallet,
      balances: world.balances,
      ...(daily === undefined ? {} : { daily: { ...daily, market: market.address } }),
    },
    settings.now,
  );
  if (answer.balance !== undefined) {
    const { low, message } = answer.balance;
    draft.status.conditions = setCondition(
      draft.status.conditions,
      { type: 'LowBalance', status: low ? 'True' : 'False', reason: low ? 'BalanceLow' : 'BalanceSufficient', message },
      settings.generation,
      settings.now,
    );
  }
  if (answer.refusal !== undefined) return refuse(draft, answer.refusal);
  draft.status.marketAddress = market.address;
  draft.status.priceBaseUnits = account.jobPrice.toString();
  draft.status.price = formatNos(account.jobPrice);
  return draft.decided({ kind: 'post', timeout, charge, attempt: nextBindingAttempt(draft.status.attempts) });
}

/** A read the world should have made did not happen: treated as a passing problem. */
function unread(what: string): Refusal {
  return refusal('Pending', `${what} could not be read; retrying with backoff`, 'backoff');
}

/** Shows why the job is not posted (phase Pending with the refusal's reason) and when to look again. */
function refuse(draft: Draft, refused: Refusal): Decision {
  draft.setPhase('Pending', refused.reason, refused.message);
  draft.event('Warning', refused.reason, refused.message);
  return draft.decided({ kind: 'none' }, retryOf(refused.retry));
}
