//! `#[export]`: the one declaration of each function of libcredchain's C
//! ABI (the crate in `src/`).
//!
//! Written on a `#[no_mangle] pub extern "C" fn credchain_NAME(...)`, it
//! keeps the signature (cbindgen reads it, with its doc comment, into the
//! header) and wraps the body so that every export, without exception:
//!
//! 1. runs behind the panic boundary (`crate::guard::boundary`), so no bug
//!    unwinds into the host, including a bug in forwarding;
//! 2. forwards to the serving copy of the library when another copy serves
//!    the process (`crate::copies::server`), through the slot `NAME` of the
//!    copy table, after checking that the serving copy's table reaches that
//!    slot: an older serving copy that lacks the function gets a clear
//!    error (`crate::guard::Outcome::missing`), never a jump through a slot
//!    it does not have. The slot is named in code, so an export missing
//!    from `crate::copies::CopyTable` does not compile;
//! 3. for a function returning `credchain_result` whose last parameter is
//!    `error: *mut *mut credchain_error`, takes a body that evaluates to
//!    `Result<()>` and turns an `Err` into its code and `*error`
//!    (`crate::guard::fallible`).
//!
//! `#[export(local)]` marks the few functions that describe the copy they
//! are called in (its version, its identity): no forwarding, still the
//! boundary. `tests/c_programs/test_exports.py` fails when an exported
//! function does not carry `#[export]`, or when the copy table and the
//! header disagree.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::{parse_macro_input, FnArg, Ident, ItemFn, Pat, ReturnType, Type};

/// Declares one exported function of the C ABI; see the crate's
/// documentation.
#[proc_macro_attribute]
pub fn export(attribute: TokenStream, item: TokenStream) -> TokenStream {
    let local = match attribute.to_string().as_str() {
        "" => false,
        "local" => true,
        other => {
            return syn::Error::new(Span::call_site(), format!("#[export] takes nothing or `local`, not `{other}`"))
                .to_compile_error()
                .into()
        }
    };
    let function = parse_macro_input!(item as ItemFn);
    match expand(function, local) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand(function: ItemFn, local: bool) -> syn::Result<proc_macro2::TokenStream> {
    check_exported(&function)?;
    let name = function.sig.ident.to_string();
    let slot = name
        .strip_prefix("credchain_")
        .map(|slot| Ident::new(slot, function.sig.ident.span()))
        .ok_or_else(|| syn::Error::new_spanned(&function.sig.ident, "an export's name starts with `credchain_`"))?;
    let arguments = argument_names(&function)?;
    let error_out = error_parameter(&function);
    let fallible = returns_result_code(&function.sig.output) && error_out.is_some();
    let error_pointer = match &error_out {
        Some(error) => quote!(#error),
        None => quote!(::std::ptr::null_mut()),
    };
    let body = &function.block;
    let inner = if fallible {
        quote!(crate::guard::fallible(#error_pointer, move || -> ::credchain_core::Result<()> #body))
    } else {
        quote!(#body)
    };
    let forward = if local {
        quote!()
    } else {
        quote! {
            if let ::std::option::Option::Some(table) = crate::copies::server() {
                // SAFETY: `table` is a pinned copy's table of this ABI
                // major; `slot!` reads the slot only when the table's size
                // says that copy has it.
                return match unsafe { crate::copies::slot!(table, #slot) } {
                    ::std::option::Option::Some(function) => function(#(#arguments),*),
                    ::std::option::Option::None => crate::guard::Outcome::missing(#error_pointer, #name),
                };
            }
        }
    };
    let ItemFn { attrs, vis, sig, .. } = function;
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            crate::guard::boundary(#error_pointer, move || {
                #forward
                #inner
            })
        }
    })
}

/// An export is `#[no_mangle] pub extern "C"`: cbindgen and the loader
/// both need to see it so.
fn check_exported(function: &ItemFn) -> syn::Result<()> {
    let no_mangle = function.attrs.iter().any(|a| a.path().is_ident("no_mangle"));
    let extern_c = function.sig.abi.as_ref().and_then(|abi| abi.name.as_ref()).is_some_and(|n| n.value() == "C");
    if !no_mangle || !extern_c || !matches!(function.vis, syn::Visibility::Public(_)) {
        return Err(syn::Error::new_spanned(&function.sig, "an export is `#[no_mangle] pub extern \"C\" fn`"));
    }
    Ok(())
}

fn argument_names(function: &ItemFn) -> syn::Result<Vec<Ident>> {
    function
        .sig
        .inputs
        .iter()
        .map(|input| match input {
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(ident) => Ok(ident.ident.clone()),
                other => Err(syn::Error::new_spanned(other, "an export's parameters are plain names")),
            },
            FnArg::Receiver(receiver) => Err(syn::Error::new_spanned(receiver, "an export takes no `self`")),
        })
        .collect()
}

/// The `error: *mut *mut credchain_error` parameter, when it is the last.
fn error_parameter(function: &ItemFn) -> Option<Ident> {
    let FnArg::Typed(last) = function.sig.inputs.last()? else { return None };
    let Pat::Ident(name) = &*last.pat else { return None };
    let is_error_out = matches!(&*last.ty, Type::Ptr(outer) if outer.mutability.is_some()
        && matches!(&*outer.elem, Type::Ptr(inner) if inner.mutability.is_some()
            && matches!(&*inner.elem, Type::Path(path) if path.path.is_ident("credchain_error"))));
    (name.ident == "error" && is_error_out).then(|| name.ident.clone())
}

fn returns_result_code(output: &ReturnType) -> bool {
    matches!(output, ReturnType::Type(_, ty) if matches!(&**ty, Type::Path(path) if path.path.is_ident("credchain_result")))
}
