//! Limited-memory BFGS with a backtracking (Armijo) line search, for the
//! small smooth convex problem of fitting the scene head. Deterministic.

/// Stopping rules and memory.
#[derive(Debug, Clone, Copy)]
pub struct LbfgsParams {
    /// Correction pairs kept.
    pub memory: usize,
    /// Cap on iterations (each one a line search along a new direction).
    pub max_iterations: usize,
    /// Stop when the gradient's max-norm falls below this.
    pub grad_tolerance: f64,
}

/// Where the minimisation stopped, and how.
#[derive(Debug, Clone)]
pub struct Minimum {
    /// The last point reached (the minimum when converged).
    pub x: Vec<f64>,
    /// The objective's value at `x`.
    pub value: f64,
    /// Iterations run.
    pub iterations: usize,
    /// Evaluations of the objective, line-search trials included.
    pub evaluations: usize,
    /// True when the gradient's max-norm fell below the tolerance.
    pub converged: bool,
}

/// Sufficient decrease constant of the Armijo rule.
const ARMIJO_C1: f64 = 1e-4;
/// Step shrink factor when the Armijo rule fails.
const BACKTRACK: f64 = 0.5;
const MAX_BACKTRACKS: usize = 30;
/// Stop when an accepted step lowers the value by less than this fraction:
/// below it the f32 sums of the objective are noise, and the line search
/// would crawl.
const REL_DECREASE_TOLERANCE: f64 = 1e-10;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Minimises `f` from `x0`. `f(x, grad)` returns the value and writes the gradient.
pub fn minimize<F>(x0: Vec<f64>, mut f: F, params: LbfgsParams) -> Minimum
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x0.len();
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut value = f(&x, &mut g);
    let mut evaluations = 1;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho_hist: Vec<f64> = Vec::new();
    let mut iterations = 0;
    let mut converged = max_abs(&g) < params.grad_tolerance;
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    while !converged && iterations < params.max_iterations {
        iterations += 1;
        // Two-loop recursion: d = -H g.
        let mut q = g.clone();
        let k = s_hist.len();
        let mut alpha = vec![0.0; k];
        for i in (0..k).rev() {
            alpha[i] = rho_hist[i] * dot(&s_hist[i], &q);
            for (qj, yj) in q.iter_mut().zip(&y_hist[i]) {
                *qj -= alpha[i] * yj;
            }
        }
        let gamma = if k > 0 {
            dot(&s_hist[k - 1], &y_hist[k - 1]) / dot(&y_hist[k - 1], &y_hist[k - 1])
        } else {
            // First step: unit length.
            1.0 / dot(&g, &g).sqrt().max(1e-12)
        };
        for v in q.iter_mut() {
            *v *= gamma;
        }
        for i in 0..k {
            let beta = rho_hist[i] * dot(&y_hist[i], &q);
            for (qj, sj) in q.iter_mut().zip(&s_hist[i]) {
                *qj += (alpha[i] - beta) * sj;
            }
        }
        let mut d: Vec<f64> = q.into_iter().map(|v| -v).collect();
        let mut slope = dot(&g, &d);
        if slope >= 0.0 || !slope.is_finite() {
            // Not a descent direction (numerical trouble): restart on the gradient.
            s_hist.clear();
            y_hist.clear();
            rho_hist.clear();
            let scale = 1.0 / dot(&g, &g).sqrt().max(1e-12);
            d = g.iter().map(|v| -v * scale).collect();
            slope = dot(&g, &d);
        }
        // Backtracking line search.
        let mut step = 1.0;
        let mut accepted = false;
        let mut stalled = false;
        for _ in 0..MAX_BACKTRACKS {
            for ((xn, xi), di) in x_new.iter_mut().zip(&x).zip(&d) {
                *xn = xi + step * di;
            }
            let v = f(&x_new, &mut g_new);
            evaluations += 1;
            if v.is_finite() && v <= value + ARMIJO_C1 * step * slope {
                accepted = true;
                let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
                let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
                let sy = dot(&s, &y);
                if sy > 1e-12 {
                    if s_hist.len() == params.memory {
                        s_hist.remove(0);
                        y_hist.remove(0);
                        rho_hist.remove(0);
                    }
                    s_hist.push(s);
                    y_hist.push(y);
                    rho_hist.push(1.0 / sy);
                }
                std::mem::swap(&mut x, &mut x_new);
                std::mem::swap(&mut g, &mut g_new);
                stalled = value - v <= REL_DECREASE_TOLERANCE * value.abs().max(v.abs());
                value = v;
                break;
            }
            step *= BACKTRACK;
        }
        if !accepted || stalled {
            // No (meaningful) decrease along the direction: at the numerical minimum.
            converged = max_abs(&g) < params.grad_tolerance;
            break;
        }
        converged = max_abs(&g) < params.grad_tolerance;
    }
    Minimum {
        x,
        value,
        iterations,
        evaluations,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_an_ill_conditioned_quadratic_and_rosenbrock() {
        let params = LbfgsParams {
            memory: 8,
            max_iterations: 500,
            grad_tolerance: 1e-8,
        };
        // f = sum_i c_i (x_i - i)^2 with condition number 1e4.
        let m = minimize(
            vec![0.0; 6],
            |x, g| {
                let mut v = 0.0;
                for i in 0..x.len() {
                    let c = 10f64.powi(i as i32 % 5);
                    let r = x[i] - i as f64;
                    v += c * r * r;
                    g[i] = 2.0 * c * r;
                }
                v
            },
            params,
        );
        assert!(m.converged);
        for (i, xi) in m.x.iter().enumerate() {
            assert!((xi - i as f64).abs() < 1e-6, "{:?}", m.x);
        }
        let m = minimize(
            vec![-1.2, 1.0],
            |x, g| {
                let (a, b) = (x[0], x[1]);
                g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
                g[1] = 200.0 * (b - a * a);
                (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
            },
            params,
        );
        assert!(
            (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5,
            "{m:?}"
        );
    }
}
