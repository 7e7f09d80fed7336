// SPDX-License-Identifier: Apache-2.0
#include "models/cost/commitment.hpp"

#include <algorithm>

namespace fleetsim {

double plan_usd(const CommitmentSpec& c, double t_s) {
  if (!c.enabled || c.term_s <= 0) return 0;
  const double f = std::clamp((t_s - c.start_s) / c.term_s, 0.0, 1.0);
  return c.amount_usd * f;
}

CommitmentStatus commitment_status(const CommitmentSpec& c, double spent_usd, double t_s, double burn_usd_per_s,
                                   std::optional<double> crossed_s) {
  CommitmentStatus st;
  st.plan_usd = plan_usd(c, t_s);
  st.spent_usd = spent_usd;
  st.shortfall_usd = std::max(0.0, st.plan_usd - spent_usd);
  st.overrun_usd = std::max(0.0, spent_usd - st.plan_usd);
  st.remaining_usd = std::max(0.0, c.amount_usd - spent_usd);
  if (spent_usd >= c.amount_usd)
    st.exhaustion_s = crossed_s ? *crossed_s : t_s;
  else if (burn_usd_per_s > 0)
    st.exhaustion_s = t_s + (c.amount_usd - spent_usd) / burn_usd_per_s;
  const double end_s = c.start_s + c.term_s;
  st.projected_at_term_end_usd = spent_usd + (t_s < end_s ? burn_usd_per_s * (end_s - std::max(t_s, c.start_s)) : 0.0);
  if (c.take_or_pay) st.take_or_pay_due_usd = std::max(0.0, c.amount_usd - st.projected_at_term_end_usd);
  return st;
}

}  // namespace fleetsim
