"""Profit, tax, working capital, investment under a credit ceiling, cash and debt.

Credit ceilings tie debt to net worth (K+S; Dosi et al. 2015), looser for state-owned firms (soft
budget constraint, Brandt, Tombe and Zhu 2013). Receivables include overdue payments that large
customers owe SMEs, which tie up SME cash: the arrears the documents call to prevent (001 III
(viii); 003 seventh). New capital embodies better technology (K+S vintages): productivity rises,
energy intensity falls, with gross investment over capital (see embodied_gain).
"""

from __future__ import annotations

import math

from numba import njit

from sim.processes import Process, parameter_tuple

PROCESS = Process(
    name="finance",
    description="Profit and tax; receivables; investment financed by cash then credit up to a ceiling on net worth; embodied technical change.",
    reads=("value_added", "employment", "rd_spending", "revenue", "capital", "cash", "debt", "receivables", "firm_class"),
    writes=("capital", "cash", "debt", "receivables", "illiquid", "productivity", "energy_intensity"),
    parameters=("depreciation_rate", "capital_adjustment_speed", "embodiment_rate", "interest_rate",
                "leverage_ceiling_private", "leverage_ceiling_soe", "debt_repayment_rate", "cash_buffer_share",
                "corporate_tax_rate", "receivable_days", "overdue_days_sme", "energy_embodiment", "fire_sale_discount"),
)
Params = parameter_tuple(PROCESS, __name__)


@njit(cache=True)
def net_worth(capital, cash, receivables, debt):
    """Assets less debt (M RMB): the base of the credit ceiling and the exit test (K+S: exit on
    negative net worth; Dosi et al. 2015)."""
    return capital + cash + receivables - debt


@njit(cache=True)
def credit_room(capital, cash, receivables, debt, ceiling):
    """How much more a firm may borrow: ceiling x net worth less current debt, not below zero."""
    return max(ceiling * net_worth(capital, cash, receivables, debt) - debt, 0.0)


@njit(cache=True)
def internal_funds(cash, revenue, cash_buffer_share, value_added, wage_bill):
    """What a firm can spend on R&D from its own means (M RMB): its cash above the buffer it keeps
    and the year's operating surplus (value added less wages), each not below zero
    (sim.rules.innovation: R&D is funded internally)."""
    return max(cash - cash_buffer_share * revenue, 0.0) + max(value_added - wage_bill, 0.0)


@njit(cache=True, inline="always")  # inlined: a call per firm costs more than its arithmetic
def finance_year(value_added, wage_bill, rd_spending, revenue, desired_capital, capital, cash, debt, receivables,
                 receivable_days, ceiling, p, other_cost=0.0, other_income=0.0, extra_deduction=0.0, grant_share=0.0):
    """One year of a firm's accounts. Returns (capital, cash, debt, receivables, investment, profit,
    tax, illiquid). The pecking order is working capital first: credit covers the year's cash
    shortfall, and the firm invests only from own funds above its cash buffer and from the credit
    left after that, so investment never makes it illiquid (a fast-growing firm slows its investment
    instead; Fazzari, Hubbard and Petersen 1988). A firm whose credit cannot cover the shortfall
    sells capital at a discount (a fire sale), losing net worth; it is illiquid, and exits, only
    when its capital runs out.

    Lever inputs (all 0 without levers, and then skipped): other_cost (carbon cost) and other_income
    (support) enter profit; extra_deduction (R&D super-deduction) lowers taxable profit; the state
    pays grant_share of investment (equipment renewal), so the firm finances only the rest."""
    depreciation = p.depreciation_rate * capital
    interest = p.interest_rate * debt
    profit = value_added - wage_bill - depreciation - interest - rd_spending
    if other_cost != 0.0 or other_income != 0.0:
        profit = profit - other_cost + other_income
    if extra_deduction != 0.0:
        tax = p.corporate_tax_rate * max(profit - extra_deduction, 0.0)
    else:
        tax = p.corporate_tax_rate * max(profit, 0.0)
    new_receivables = receivables_of(revenue, receivable_days)
    operating_cash = profit - tax + depreciation - (new_receivables - receivables)
    repayment = p.debt_repayment_rate * debt
    debt -= repayment
    cash += operating_cash - repayment

    # Working capital first: a cash shortfall is covered by credit while the ceiling allows.
    room = credit_room(capital, cash, new_receivables, debt, ceiling)
    cover = min(max(-cash, 0.0), room)
    debt += cover
    cash += cover
    # Investment from own funds above the cash buffer, then from the credit that is left.
    desired = depreciation + p.capital_adjustment_speed * max(desired_capital - capital, 0.0)
    own_funds = max(cash - p.cash_buffer_share * revenue, 0.0)
    room = credit_room(capital, cash, new_receivables, debt, ceiling)
    if grant_share != 0.0:
        investment = min(desired, (own_funds + room) / (1.0 - grant_share))
        grant = grant_share * investment
        borrowed = max(investment - grant - own_funds, 0.0)
        debt += borrowed
        cash += borrowed + grant - investment
    else:
        investment = min(desired, own_funds + room)
        borrowed = max(investment - own_funds, 0.0)
        debt += borrowed
        cash += borrowed - investment
    capital += investment - depreciation
    if cash < 0.0:
        # Fire sale: a firm out of credit sells capital below its book value before it fails
        # (Shleifer and Vishny 1992); illiquid only when even all of it cannot cover the shortfall.
        proceeds_per_unit = 1.0 - p.fire_sale_discount
        needed = -cash / proceeds_per_unit
        if needed <= capital:
            capital -= needed
            cash = 0.0
        elif capital > 0.0:
            cash += capital * proceeds_per_unit
            capital = 0.0
    return capital, cash, debt, new_receivables, investment, profit, tax, cash < 0.0


@njit(cache=True)
def receivables_of(revenue, days):
    """Receivables (M RMB): `days` days of the year's revenue."""
    return revenue * days / 365.0


@njit(cache=True, inline="always")
def settle_accounts(f, i, value_added, wage_bill, rd_spending, desired_capital, receivable_days, ceiling, p, other_cost,
                    other_income, extra_deduction, grant_share):
    """Row i's accounts of the year (finance_year), written to its balance sheet and illiquidity;
    returns (investment, profit, tax, capital before the investment)."""
    before = f.capital[i]
    k, c, d, r, investment, profit, tax, short = finance_year(
        value_added, wage_bill, rd_spending, f.revenue[i], desired_capital, before, f.cash[i], f.debt[i], f.receivables[i],
        receivable_days, ceiling, p, other_cost, other_income, extra_deduction, grant_share)
    f.capital[i], f.cash[i], f.debt[i], f.receivables[i], f.illiquid[i] = k, c, d, r, short
    return investment, profit, tax, before


@njit(cache=True)
def credit_ceiling(state_owned, reform, p):
    """Debt allowed per unit of net worth: looser for state-owned firms (soft budget constraint,
    Brandt, Tombe and Zhu 2013); SOE reform (`reform`, 0 to 1, state-owned firms only) moves theirs
    toward the private one (soe_ceiling)."""
    if reform != 0.0:
        return soe_ceiling(p.leverage_ceiling_soe, p.leverage_ceiling_private, reform)
    return p.leverage_ceiling_soe if state_owned else p.leverage_ceiling_private


@njit(cache=True)
def desired_capital(capital_to_revenue, revenue, demand_growth, grant_share, elasticity):
    """Capital the firm wants (M RMB): its industry's capital per unit of revenue times revenue,
    grown with its market's last demand growth (the K+S accelerator on expected demand); with an
    equipment-renewal grant (`grant_share` of investment paid by the state), more at the user-cost
    elasticity `elasticity` (desired_capital_with_grant)."""
    desired = capital_to_revenue * revenue * (1.0 + demand_growth)
    if grant_share != 0.0:
        desired = desired_capital_with_grant(desired, grant_share, elasticity)
    return desired


@njit(cache=True, inline="always")
def embodied_change(productivity, energy_intensity, investment, capital_before, p):
    """New vintages (K+S): productivity up and energy intensity down with gross investment over
    capital (embodied_gain at the embodiment rates); no investment leaves both as they are."""
    if investment != 0.0:  # no investment, no vintage gain (exp(0) = 1 exactly)
        productivity *= math.exp(embodied_gain(investment, capital_before, p.embodiment_rate))
        energy_intensity *= math.exp(-embodied_gain(investment, capital_before, p.energy_embodiment))
    return productivity, energy_intensity


@njit(cache=True)
def forgone_tax(weight, profit, tax, tax_rate):
    """Fiscal cost of the R&D super-deduction for the row's `weight` firms (M RMB): the tax they
    would have paid without it less the tax they pay."""
    return weight * (tax_rate * max(profit, 0.0) - tax)


@njit(cache=True)
def grant_cost(weight, grant_share, investment):
    """Fiscal cost of equipment-renewal grants for the row's `weight` firms (M RMB)."""
    return weight * grant_share * investment


@njit(cache=True)
def desired_capital_with_grant(desired_capital, grant_share, elasticity):
    """Equipment renewal: desired capital when the firm pays only (1 - grant_share) of investment,
    at a user-cost elasticity of capital `elasticity`."""
    return desired_capital * (1.0 - grant_share) ** (-elasticity)


@njit(cache=True)
def receivable_days_of(base_days, overdue_days, is_sme, arrears_cut):
    """Days of revenue held as receivables: the payment terms, plus overdue days for SMEs, of which
    arrears enforcement removes the share `arrears_cut`."""
    if not is_sme:
        return base_days
    if arrears_cut != 0.0:
        return base_days + overdue_days * (1.0 - arrears_cut)
    return base_days + overdue_days


@njit(cache=True)
def soe_ceiling(soe, private, reform):
    """SOE reform: the state-owned credit ceiling moved toward the private one by `reform` (0 to 1)."""
    return soe - reform * (soe - private)


@njit(cache=True)
def embodied_gain(investment, capital_before, rate):
    """Log change of productivity (or minus the log change of energy intensity) from new vintages;
    investment beyond the whole capital stock brings no further vintage gain."""
    return rate * min(investment / max(capital_before, 1e-9), 1.0)  # at most a full renewal of the capital stock
