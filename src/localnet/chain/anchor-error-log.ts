// The line Anchor programs print when an instruction fails; clients parse `Error Code: <Name>`
// from it because Nosana's numeric codes collide across error enums.
import type { ProgramFailure } from './program.ts';

export function anchorErrorLog(failure: ProgramFailure): string {
  const origin = failure.account ? `caused by account: ${failure.account}` : 'occurred';
  return `AnchorError ${origin}. Error Code: ${failure.errorName}. Error Number: ${failure.errorCode}. Error Message: ${failure.message}.`;
}
