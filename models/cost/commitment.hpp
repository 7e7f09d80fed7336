// SPDX-License-Identifier: Apache-2.0
// Commitment burn: spend against the straight-line plan of a committed-spend contract.
//
//   CommitmentSpec c{.enabled = true, .amount_usd = 38e9, .start_s = 0, .term_s = 7 * 365 * 86400.0};
//   plan_usd(c, t_s);                                // A x clamp((t - start) / term, 0, 1)
//   CommitmentStatus st = commitment_status(c, spent, t_s, burn_rate_usd_per_s);
//   st.shortfall_usd;                                // plan - spent when behind plan, else 0
//   st.exhaustion_s;                                 // when spent reaches A at this burn rate
//
// Projection: the burn rate is the run's average spend per second since the commitment started
// (the caller measures it); the exhaustion time is now + (A - spent) / rate, or the instant the
// spend crossed A if it already has; none when the rate is zero. Take-or-pay: what spend at that
// rate leaves unspent at the end of the term is owed anyway (take_or_pay_due_usd).
#pragma once

#include "models/cost/cost_spec.hpp"

#include <optional>

namespace fleetsim {

/// The straight-line plan: cumulative spend the contract expects by t (seconds from the run start).
double plan_usd(const CommitmentSpec& c, double t_s);

struct CommitmentStatus {
  double plan_usd = 0;        ///< plan to date
  double spent_usd = 0;       ///< spend counted against the commitment to date
  double shortfall_usd = 0;   ///< max(0, plan - spent)
  double overrun_usd = 0;     ///< max(0, spent - plan)
  double remaining_usd = 0;   ///< max(0, amount - spent)
  std::optional<double> exhaustion_s;    ///< projected (or actual) time spend reaches the amount
  double projected_at_term_end_usd = 0;  ///< spent + rate x (term end - now), or spent after the term
  double take_or_pay_due_usd = 0;        ///< max(0, amount - projected) if take-or-pay, else 0
};

/// Status at t_s given the spend so far and the burn rate (USD/s). `crossed_s`: when spend crossed
/// the amount, if it has.
CommitmentStatus commitment_status(const CommitmentSpec& c, double spent_usd, double t_s, double burn_usd_per_s,
                                   std::optional<double> crossed_s = std::nullopt);

}  // namespace fleetsim
