package dev.credchain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Callback;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The binding's constants and C signatures against {@code include/credchain.h}.
 *
 * <p>Why it exists: the Java binding restates the C ABI by hand. {@link CredChainException.Code}
 * repeats the numbers of {@code enum credchain_result}, {@link CredChainNative.Logging} those of
 * {@code enum credchain_log_level}, and {@link CredChainNative} declares one {@code static native}
 * method per C function it calls, direct-mapped by JNA with no check of its own: JNA binds by name
 * only, so a renumbered code, a new parameter or a changed return type would go unnoticed until a
 * call misbehaves (wrong exception code, garbage in registers, a crash). A change to the ABI must
 * fail here instead of leaving the binding silently wrong. This is the Java counterpart of
 * {@code bindings/python/tests/test_header_constants.py}, with the same coverage:
 *
 * <ol>
 *   <li>every {@code CREDCHAIN_*} enumerator of {@code credchain_result} has the same number in
 *       {@link CredChainException.Code}, and the enum has no code the header lacks
 *       ({@link CredChainException.Code#UNKNOWN} excepted: the binding's own "newer library"
 *       sentinel, never a C value);
 *   <li>the same for {@code credchain_log_level} and the {@code LOG_*} constants of
 *       {@link CredChainNative.Logging};
 *   <li>every {@code credchain_*} native method of {@link CredChainNative} is declared in the
 *       header with as many parameters, a compatible return kind (int for {@code
 *       credchain_result}, void, pointer) and compatible parameter kinds (int, long, boolean,
 *       pointer, pointer-to-pointer, {@code uint64_t *} as {@link LongByReference} or {@code
 *       long[]}, {@code void *} as {@link Pointer}, callback). Header functions the binding does
 *       not call yet are allowed;
 *   <li>a parameter of a function pointer type ({@code credchain_log_subscriber}) is a JNA
 *       {@link Callback} interface whose method has the typedef's parameters and return type;
 *   <li>{@code CREDCHAIN_ABI_MAJOR} and {@code CREDCHAIN_ABI_MINOR} equal {@link Abi#ABI_MAJOR}
 *       and {@link Abi#ABI_MINOR}, the version the binding checks the loaded library against;
 *   <li>{@link CredChainNative.CCredentials} has the fields of {@code struct
 *       credchain_credentials}, in the same order, of compatible kinds;
 *   <li>the binding does not use {@code credchain_set_log_callback}, the one callback shared by
 *       every host in the process (it subscribes instead).
 * </ol>
 *
 * <p>Nothing here loads the native library: the header is read as text from {@code
 * ../../include/credchain.h} (relative to the Maven project, {@code basedir}), and the binding is
 * inspected by reflection only. {@link CredChainNative} is never initialized (its static
 * initializer is what loads the library); only {@link CredChainException.Code} and {@link
 * CredChainNative.Logging}, whose initializers are plain Java, are.
 *
 * <p>The header is cbindgen's output, not hand-written, so the parser is a few regular expressions
 * over the header with comments and preprocessor lines removed; {@link
 * #theParserSeesEveryDeclaredFunction()} fails if a declaration ever takes a shape it misses, and
 * the two {@code ...IsReported} tests feed it a doctored copy of the header to show the
 * comparisons do fail.
 */
class HeaderConstantsTest {
  /** The header as text, comments and preprocessor lines removed. */
  private static String header;
  /** The header as it is, for its #defines. */
  private static String rawHeader;
  private static Path headerPath;

  @BeforeAll
  static void readHeader() throws IOException {
    // Surefire sets basedir to the Maven project (bindings/java) and runs there; an IDE running
    // the test from bindings/java gets the same from user.dir.
    String base = System.getProperty("basedir", System.getProperty("user.dir"));
    headerPath = Paths.get(base, "..", "..", "include", "credchain.h").toAbsolutePath().normalize();
    assertTrue(Files.isRegularFile(headerPath), () -> "include/credchain.h not found at "
        + headerPath + " (basedir=" + System.getProperty("basedir") + ", user.dir="
        + System.getProperty("user.dir") + ")");
    rawHeader = new String(Files.readAllBytes(headerPath), StandardCharsets.UTF_8);
    header = clean(rawHeader);
  }

  // ---- the tests ------------------------------------------------------------------------------

  @Test
  void resultCodesMatchTheHeader() {
    Map<String, Long> c = enumValues(header, "credchain_result");
    assertTrue(c.containsKey("CREDCHAIN_OK"), () -> "no CREDCHAIN_OK in credchain_result: " + c);
    assertNoProblems("CredChainException.Code disagrees with enum credchain_result in "
        + headerPath,
        compareConstants(c, javaResultCodes(), "CredChainException.Code.", "CREDCHAIN_"));
  }

  @Test
  void logLevelsMatchTheHeader() {
    Map<String, Long> c = enumValues(header, "credchain_log_level");
    assertTrue(c.containsKey("CREDCHAIN_LOG_OFF"),
        () -> "no CREDCHAIN_LOG_OFF in credchain_log_level: " + c);
    assertNoProblems("CredChainNative.Logging's LOG_* constants disagree with enum "
        + "credchain_log_level in " + headerPath,
        compareConstants(c, javaLogLevels(), "CredChainNative.Logging.", "CREDCHAIN_"));
  }

  @Test
  void everyNativeMethodMatchesItsDeclarationInTheHeader() {
    List<Method> methods = nativeMethods();
    assertFalse(methods.isEmpty(), "CredChainNative declares no credchain_* native method");
    assertNoProblems("CredChainNative disagrees with " + headerPath,
        compareSignatures(header, methods));
  }

  @Test
  void abiVersionMatchesTheHeader() {
    Map<String, Long> c = defines(rawHeader, "CREDCHAIN_ABI_");
    assertEquals(new TreeSet<>(Arrays.asList("CREDCHAIN_ABI_MAJOR", "CREDCHAIN_ABI_MINOR")),
        new TreeSet<>(c.keySet()), "the ABI version macros of " + headerPath);
    assertNoProblems("Abi's ABI_* constants disagree with the CREDCHAIN_ABI_* macros of "
        + headerPath, compareConstants(c, javaAbiVersion(), "Abi.", "CREDCHAIN_"));
  }

  @Test
  void theCredentialsStructMatchesTheHeader() {
    assertNoProblems("CredChainNative.CCredentials disagrees with struct credchain_credentials in "
        + headerPath, compareStruct(header, "credchain_credentials",
            CredChainNative.CCredentials.class));
  }

  @Test
  void theBindingSubscribesInsteadOfSharingTheOneLogCallback() {
    // credchain_set_log_callback is one callback for the whole process: a JVM that set or cleared
    // it would take it from (or silence) a C driver or a Python plugin in the same process.
    assertTrue(functions(header).containsKey("credchain_log_subscribe"));
    assertFalse(nativeMethods().stream().anyMatch(m -> m.getName().equals(
        "credchain_set_log_callback")), "CredChainNative still declares credchain_set_log_callback");
    assertTrue(nativeMethods().stream().anyMatch(m -> m.getName().equals(
        "credchain_log_unsubscribe")), "CredChainNative declares no credchain_log_unsubscribe");
  }

  @Test
  void theParserSeesEveryDeclaredFunction() {
    // Every "credchain_x(" left once comments are gone is a declaration: the parser must have
    // understood each of them, or a new shape of declaration would be skipped unchecked.
    Map<String, CFunction> parsed = functions(header);
    TreeSet<String> mentioned = new TreeSet<>();
    Matcher m = Pattern.compile("\\b(credchain_\\w+)\\s*\\(").matcher(header);
    while (m.find()) {
      mentioned.add(m.group(1));
    }
    assertFalse(mentioned.isEmpty(), "no credchain_* function in " + headerPath);
    assertEquals(mentioned, new TreeSet<>(parsed.keySet()),
        "the declaration parser of HeaderConstantsTest missed functions of " + headerPath);
  }

  @Test
  void aRenumberedResultCodeIsReported() {
    Map.Entry<String, Long> first =
        enumValues(header, "credchain_result").entrySet().iterator().next();
    String doctored = header.replaceFirst(
        "\\b" + first.getKey() + "\\s*=\\s*" + first.getValue() + "\\b",
        first.getKey() + " = " + (first.getValue() + 100));
    List<String> problems = compareConstants(enumValues(doctored, "credchain_result"),
        javaResultCodes(), "CredChainException.Code.", "CREDCHAIN_");
    String expected = first.getKey() + ": the header says " + (first.getValue() + 100) + ", ";
    assertTrue(problems.stream().anyMatch(p -> p.startsWith(expected)),
        () -> "no \"" + expected + "...\" in " + problems);
  }

  @Test
  void anAddedParameterIsReported() {
    Map<String, CFunction> parsed = functions(header);
    Method victim = nativeMethods().stream()
        .filter(m -> m.getParameterCount() > 0 && parsed.containsKey(m.getName()))
        .findFirst().orElseThrow(() -> new AssertionError("no native method with parameters"));
    String doctored = header.replaceFirst("\\b" + victim.getName() + "\\s*\\(",
        victim.getName() + "(int added_parameter, ");
    List<String> problems = compareSignatures(doctored, Collections.singletonList(victim));
    String expected = victim.getName() + ": the header declares "
        + (victim.getParameterCount() + 1) + " parameters ";
    assertTrue(problems.stream().anyMatch(p -> p.startsWith(expected)),
        () -> "no \"" + expected + "...\" in " + problems);
  }

  @Test
  void aChangedAbiMajorIsReported() {
    String doctored = rawHeader.replaceFirst("(?m)^(#define\\s+CREDCHAIN_ABI_MAJOR\\s+)\\d+",
        "$1" + (Abi.ABI_MAJOR + 1));
    List<String> problems = compareConstants(defines(doctored, "CREDCHAIN_ABI_"), javaAbiVersion(),
        "Abi.", "CREDCHAIN_");
    assertEquals(Collections.singletonList("CREDCHAIN_ABI_MAJOR: the header says "
        + (Abi.ABI_MAJOR + 1) + ", Abi.ABI_MAJOR says " + Abi.ABI_MAJOR), problems);
  }

  @Test
  void aChangedCallbackSignatureIsReported() {
    // The subscriber typedef without its userdata: the Java callback now has one parameter too many.
    String doctored = header.replaceFirst(
        "(\\(\\s*\\*\\s*credchain_log_subscriber\\s*\\)\\s*\\([^()]*?),\\s*void\\s*\\*\\s*userdata\\s*\\)",
        "$1)");
    assertFalse(doctored.equals(header), "the doctoring did not apply");
    List<String> problems = compareSignatures(doctored, nativeMethods());
    String expected = "credchain_log_subscribe: parameter 2 is credchain_log_subscriber, a callback "
        + "with 2 parameters";
    assertTrue(problems.stream().anyMatch(p -> p.startsWith(expected)),
        () -> "no \"" + expected + "...\" in " + problems);
  }

  @Test
  void aNewStructFieldIsReported() {
    // a field added at the end of the struct, as a later ABI minor may
    String doctored = header.replaceFirst("(\\bstruct\\s+credchain_credentials\\s*\\{[^}]*)\\}",
        "$1 int64_t added_field; }");
    assertFalse(doctored.equals(header), "the doctoring did not apply");
    List<String> problems = compareStruct(doctored, "credchain_credentials",
        CredChainNative.CCredentials.class);
    assertTrue(problems.stream().anyMatch(p -> p.contains("added_field")), problems::toString);
  }

  // ---- the binding, by reflection -------------------------------------------------------------

  /** The static final int ABI_* fields of Abi, as CREDCHAIN_ABI_* names. */
  static Map<String, Long> javaAbiVersion() {
    Map<String, Long> out = new LinkedHashMap<>();
    for (Field f : Abi.class.getDeclaredFields()) {
      int mod = f.getModifiers();
      if (f.getName().startsWith("ABI_") && Modifier.isStatic(mod) && Modifier.isFinal(mod)
          && f.getType() == int.class) {
        try {
          f.setAccessible(true);
          out.put("CREDCHAIN_" + f.getName(), (long) f.getInt(null));
        } catch (IllegalAccessException e) {
          throw new AssertionError("cannot read Abi." + f.getName(), e);
        }
      }
    }
    return out;
  }

  /** CredChainException.Code as CREDCHAIN_ names, without the binding-only UNKNOWN. */
  static Map<String, Long> javaResultCodes() {
    Map<String, Long> out = new LinkedHashMap<>();
    for (CredChainException.Code c : CredChainException.Code.values()) {
      if (c != CredChainException.Code.UNKNOWN) {
        out.put("CREDCHAIN_" + c.name(), (long) c.value());
      }
    }
    return out;
  }

  /** The static final int LOG_* fields of CredChainNative.Logging, as CREDCHAIN_LOG_* names. */
  static Map<String, Long> javaLogLevels() {
    Map<String, Long> out = new LinkedHashMap<>();
    for (Field f : CredChainNative.Logging.class.getDeclaredFields()) {
      int mod = f.getModifiers();
      if (f.getName().startsWith("LOG_") && Modifier.isStatic(mod) && Modifier.isFinal(mod)
          && f.getType() == int.class) {
        try {
          f.setAccessible(true);
          out.put("CREDCHAIN_" + f.getName(), (long) f.getInt(null));
        } catch (IllegalAccessException e) {
          throw new AssertionError("cannot read CredChainNative.Logging." + f.getName(), e);
        }
      }
    }
    return out;
  }

  /**
   * The credchain_* native methods of CredChainNative. getDeclaredMethods does not initialize the
   * class, so the library is not loaded.
   */
  static List<Method> nativeMethods() {
    return Arrays.stream(CredChainNative.class.getDeclaredMethods())
        .filter(m -> Modifier.isNative(m.getModifiers()) && m.getName().startsWith("credchain_"))
        .sorted((a, b) -> a.getName().compareTo(b.getName()))
        .collect(Collectors.toList());
  }

  // ---- the comparisons ------------------------------------------------------------------------

  /**
   * One line per disagreement between the header's enumerators and the binding's constants, both
   * keyed by the header's name. {@code javaPrefix} + (name without {@code strip}) names the Java
   * constant in messages.
   */
  static List<String> compareConstants(Map<String, Long> c, Map<String, Long> java,
      String javaPrefix, String strip) {
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Long> e : c.entrySet()) {
      String javaName = javaPrefix + e.getKey().substring(strip.length());
      Long j = java.get(e.getKey());
      if (j == null) {
        problems.add(e.getKey() + " = " + e.getValue() + " is in the header but the binding has no "
            + javaName);
      } else if (!j.equals(e.getValue())) {
        problems.add(e.getKey() + ": the header says " + e.getValue() + ", " + javaName + " says "
            + j);
      }
    }
    for (Map.Entry<String, Long> e : java.entrySet()) {
      if (!c.containsKey(e.getKey())) {
        problems.add(javaPrefix + e.getKey().substring(strip.length()) + " = " + e.getValue()
            + " has no " + e.getKey() + " in the header");
      }
    }
    return problems;
  }

  /** One line per native method that disagrees with its declaration in {@code cleanHeader}. */
  static List<String> compareSignatures(String cleanHeader, List<Method> methods) {
    Map<String, CFunction> c = functions(cleanHeader);
    Map<String, String> aliases = typedefs(cleanHeader);
    Map<String, CFunction> callbacks = callbackTypedefs(cleanHeader);
    List<String> problems = new ArrayList<>();
    for (Method m : methods) {
      CFunction f = c.get(m.getName());
      if (f == null) {
        problems.add(m.getName()
            + ": CredChainNative declares it but the header has no such function");
        continue;
      }
      Class<?>[] params = m.getParameterTypes();
      if (params.length != f.params.size()) {
        problems.add(m.getName() + ": the header declares " + f.params.size() + " parameters "
            + f.params + ", CredChainNative." + m.getName() + " has " + params.length + " "
            + javaNames(params));
        continue;
      }
      String ret = kindMismatch(f.returnType, m.getReturnType(), true, aliases);
      if (ret != null) {
        problems.add(m.getName() + ": returns " + f.returnType + " in the header, "
            + m.getReturnType().getSimpleName() + " in CredChainNative (" + ret + ")");
      }
      for (int i = 0; i < params.length; i++) {
        String p = kindMismatch(f.params.get(i), params[i], false, aliases);
        if (p != null) {
          problems.add(m.getName() + ": parameter " + (i + 1) + " is " + f.params.get(i)
              + " in the header, " + params[i].getSimpleName() + " in CredChainNative (" + p + ")");
          continue;
        }
        CFunction typedef = callbacks.get(f.params.get(i).trim());
        if (typedef != null) {
          String cb = callbackMismatch(typedef, params[i], aliases);
          if (cb != null) {
            problems.add(m.getName() + ": parameter " + (i + 1) + " is " + f.params.get(i)
                + ", a callback with " + typedef.params.size() + " parameters "
                + typedef.params + " returning " + typedef.returnType + "; "
                + params[i].getSimpleName() + " " + cb);
          }
        }
      }
    }
    return problems;
  }

  /**
   * Null when the JNA callback interface {@code java} has the function pointer type's
   * parameters and return type, else what differs. Its parameters come from C, as return values
   * do, so they are checked as such ({@code const char *} is a Pointer or a String).
   */
  static String callbackMismatch(CFunction typedef, Class<?> java, Map<String, String> aliases) {
    Method method = callbackMethod(java);
    if (method == null) {
      return "is not a JNA callback interface with one method";
    }
    Class<?>[] params = method.getParameterTypes();
    if (params.length != typedef.params.size()) {
      return "." + method.getName() + " has " + params.length + " " + javaNames(params);
    }
    List<String> problems = new ArrayList<>();
    String ret = kindMismatch(typedef.returnType, method.getReturnType(), true, aliases);
    if (ret != null) {
      problems.add("returns " + method.getReturnType().getSimpleName() + " (" + ret + ")");
    }
    for (int i = 0; i < params.length; i++) {
      String p = kindMismatch(typedef.params.get(i), params[i], true, aliases);
      if (p != null) {
        problems.add("parameter " + (i + 1) + " is " + params[i].getSimpleName() + " (" + p + ")");
      }
    }
    return problems.isEmpty() ? null : "." + method.getName() + ": " + String.join(", ", problems);
  }

  /** The method JNA calls on a callback: the only one, or the one named "callback". */
  static Method callbackMethod(Class<?> java) {
    if (!Callback.class.isAssignableFrom(java)) {
      return null;
    }
    List<Method> candidates = Arrays.stream(java.getMethods())
        .filter(m -> m.getDeclaringClass() != Object.class && !m.isDefault()
            && !Modifier.isStatic(m.getModifiers()))
        .collect(Collectors.toList());
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    return candidates.stream().filter(m -> m.getName().equals("callback")).findFirst().orElse(null);
  }

  /**
   * One line per disagreement between {@code struct name} in the header and the JNA structure
   * {@code java}: field names in order ({@code @Structure.FieldOrder}) and kinds. The whole struct
   * is mapped, so that a field the library adds is noticed here rather than never read.
   */
  static List<String> compareStruct(String cleanHeader, String name,
      Class<? extends Structure> java) {
    Matcher m = Pattern.compile("\\bstruct\\s+" + Pattern.quote(name) + "\\s*\\{([^}]*)\\}")
        .matcher(cleanHeader);
    assertTrue(m.find(), () -> "struct " + name + " not found in the header");
    Map<String, String> cFields = new LinkedHashMap<>();
    for (String raw : m.group(1).split(";")) {
      String field = raw.trim().replaceAll("\\s+", " ");
      if (field.isEmpty()) {
        continue;
      }
      Matcher fm = PARAM.matcher(field);
      assertTrue(fm.matches(), () -> "cannot read a field of struct " + name + ": " + field);
      cFields.put(fm.group(2), fm.group(1).trim());
    }
    Structure.FieldOrder order = java.getAnnotation(Structure.FieldOrder.class);
    List<String> javaFields = order == null ? Collections.<String>emptyList()
        : Arrays.asList(order.value());
    List<String> problems = new ArrayList<>();
    if (!javaFields.equals(new ArrayList<>(cFields.keySet()))) {
      problems.add("fields: the header has " + cFields.keySet() + ", " + java.getSimpleName()
          + " has " + javaFields + " (same names, same order, none missing)");
    }
    Map<String, String> aliases = typedefs(cleanHeader);
    for (String f : javaFields) {
      String cType = cFields.get(f);
      if (cType == null) {
        continue;
      }
      try {
        Class<?> type = java.getField(f).getType();
        String k = kindMismatch(cType, type, true, aliases);
        if (k != null) {
          problems.add(f + " is " + cType + " in the header, " + type.getSimpleName() + " in "
              + java.getSimpleName() + " (" + k + ")");
        }
      } catch (NoSuchFieldException e) {
        problems.add(f + " is in @FieldOrder but " + java.getSimpleName() + " has no public field "
            + f);
      }
    }
    return problems;
  }

  /**
   * Null when a Java type can carry the C type through JNA, else what the C type needs. Only the
   * kinds this ABI uses are known; an unknown C type is reported so that the table grows with the
   * header instead of letting a new type through unchecked.
   */
  static String kindMismatch(String cType, Class<?> java, boolean isReturn,
      Map<String, String> aliases) {
    int stars = cType.length() - cType.replace("*", "").length();
    String base = cType.replace("*", " ").replaceAll("\\b(const|struct|enum|volatile)\\b", " ")
        .trim().replaceAll("\\s+", " ");
    while (stars == 0 && aliases.containsKey(base)) {
      base = aliases.get(base);
    }
    List<Class<?>> ok;
    if (stars >= 2) {
      ok = Arrays.asList(PointerByReference.class, Pointer.class);
    } else if (stars == 1) {
      if (base.equals("char")) {
        ok = isReturn ? Arrays.asList(Pointer.class, String.class)
            : Arrays.asList(byte[].class, String.class, Pointer.class);
      } else if (base.matches("u?int64_t")) {
        // an out parameter (uint64_t *subscription); a returned address (the generation
        // counter) is read through a Pointer
        ok = isReturn ? Collections.singletonList(Pointer.class)
            : Arrays.asList(LongByReference.class, long[].class);
      } else if (base.equals("void")) {
        ok = Collections.singletonList(Pointer.class);
      } else {
        ok = Arrays.asList(Pointer.class, Structure.class);
      }
    } else if (base.equals("void")) {
      ok = Collections.singletonList(void.class);
    } else if (base.equals("bool")) {
      ok = Collections.singletonList(boolean.class);
    } else if (base.matches("u?int64_t")) {
      ok = Collections.singletonList(long.class);
    } else if (base.matches("u?int32_t|int|unsigned( int)?")) {
      ok = Collections.singletonList(int.class);
    } else if (base.matches("u?int16_t")) {
      // CredChainNative passes uint16_t as int on purpose (zero- rather than sign-extended).
      ok = Arrays.asList(int.class, short.class);
    } else if (base.matches("u?int8_t")) {
      ok = Arrays.asList(int.class, byte.class);
    } else if (base.equals("callback")) {
      ok = Collections.singletonList(Callback.class);
    } else {
      return "HeaderConstantsTest does not know which Java types carry " + cType
          + "; add it to kindMismatch";
    }
    for (Class<?> k : ok) {
      if (k.isAssignableFrom(java)) {
        return null;
      }
    }
    return "expected " + ok.stream().map(Class::getSimpleName).collect(Collectors.joining(" or "));
  }

  static String javaNames(Class<?>[] types) {
    return Arrays.stream(types).map(Class::getSimpleName)
        .collect(Collectors.joining(", ", "[", "]"));
  }

  // ---- the header, parsed ---------------------------------------------------------------------

  /** The header without comments and preprocessor lines. */
  static String clean(String text) {
    return text.replaceAll("(?s)/\\*.*?\\*/", " ")
        .replaceAll("//[^\n]*", " ")
        .replaceAll("(?m)^\\s*#.*$", " ");
  }

  /** The enumerators of {@code enum name}, in order, with C's implicit numbering. */
  static Map<String, Long> enumValues(String cleanHeader, String name) {
    Matcher m = Pattern.compile("\\benum\\s+" + Pattern.quote(name) + "\\b[^{;]*\\{([^}]*)\\}")
        .matcher(cleanHeader);
    assertTrue(m.find(), () -> "enum " + name + " not found in the header");
    Map<String, Long> out = new LinkedHashMap<>();
    long next = 0;
    for (String raw : m.group(1).split(",")) {
      String item = raw.trim();
      if (item.isEmpty()) {
        continue;
      }
      Matcher e = Pattern.compile("(\\w+)\\s*(?:=\\s*(.+))?").matcher(item);
      assertTrue(e.matches(), () -> "cannot read enumerator of " + name + ": " + item);
      long value;
      try {
        value = e.group(2) == null ? next : Long.decode(e.group(2).trim());
      } catch (NumberFormatException x) {
        throw new AssertionError("enumerator " + e.group(1) + " of " + name
            + " is not a plain number: " + e.group(2), x);
      }
      out.put(e.group(1), value);
      next = value + 1;
    }
    return out;
  }

  /** A C function declaration: return type and parameter types (names dropped). */
  static final class CFunction {
    final String returnType;
    final List<String> params;

    CFunction(String returnType, List<String> params) {
      this.returnType = returnType;
      this.params = params;
    }
  }

  private static final Pattern DECLARATION = Pattern.compile(
      "(?s)\\s*([A-Za-z_][\\w\\s*]*?)\\s*\\b(credchain_\\w+)\\s*\\(([^()]*)\\)\\s*");
  private static final Pattern PARAM = Pattern.compile("(?s)(.*?[\\s*])(\\w+)");

  /**
   * The {@code credchain_*} functions the header declares. Statements end at ';'; a declaration
   * is what follows the last brace of its statement (the end of a struct, {@code extern "C" {}),
   * may span lines, and is "return type, name, (parameters)".
   */
  static Map<String, CFunction> functions(String cleanHeader) {
    Map<String, CFunction> out = new TreeMap<>();
    for (String statement : cleanHeader.split(";")) {
      String s = statement.substring(
          Math.max(statement.lastIndexOf('{'), statement.lastIndexOf('}')) + 1);
      Matcher m = DECLARATION.matcher(s);
      if (!m.matches() || m.group(1).matches("(?s).*\\btypedef\\b.*")) {
        continue;
      }
      out.put(m.group(2), new CFunction(m.group(1).trim().replaceAll("\\s+", " "),
          parameterTypes(m.group(3))));
    }
    return out;
  }

  /** The types of a C parameter list (names dropped); empty for "" and "void". */
  static List<String> parameterTypes(String list) {
    List<String> params = new ArrayList<>();
    list = list.trim();
    if (!list.isEmpty() && !list.equals("void")) {
      for (String p : list.split(",")) {
        p = p.trim().replaceAll("\\s+", " ");
        Matcher pm = PARAM.matcher(p);
        params.add(pm.matches() ? pm.group(1).trim() : p);
      }
    }
    return params;
  }

  /**
   * Scalar typedefs ({@code typedef uint32_t credchain_result;}), and function pointer typedefs
   * mapped to "callback".
   */
  static Map<String, String> typedefs(String cleanHeader) {
    Map<String, String> out = new TreeMap<>();
    Matcher m = Pattern.compile("\\btypedef\\s+(\\w+)\\s+(\\w+)\\s*;").matcher(cleanHeader);
    while (m.find()) {
      out.put(m.group(2), m.group(1));
    }
    m = Pattern.compile("\\btypedef\\s[^;]*?\\(\\s*\\*\\s*(\\w+)\\s*\\)\\s*\\(")
        .matcher(cleanHeader);
    while (m.find()) {
      out.put(m.group(1), "callback");
    }
    return out;
  }

  /** Function pointer typedefs, by name: their return and parameter types. */
  static Map<String, CFunction> callbackTypedefs(String cleanHeader) {
    Map<String, CFunction> out = new TreeMap<>();
    Matcher m = Pattern.compile(
        "\\btypedef\\s+([\\w\\s*]+?)\\s*\\(\\s*\\*\\s*(\\w+)\\s*\\)\\s*\\(([^()]*)\\)\\s*;")
        .matcher(cleanHeader);
    while (m.find()) {
      out.put(m.group(2), new CFunction(m.group(1).trim().replaceAll("\\s+", " "),
          parameterTypes(m.group(3))));
    }
    return out;
  }

  /** {@code #define NAME number} lines whose name starts with {@code prefix}, in order. */
  static Map<String, Long> defines(String raw, String prefix) {
    Map<String, Long> out = new LinkedHashMap<>();
    Matcher m = Pattern.compile("(?m)^\\s*#\\s*define\\s+(" + Pattern.quote(prefix)
        + "\\w*)\\s+(\\S+)\\s*$").matcher(raw);
    while (m.find()) {
      try {
        out.put(m.group(1), Long.decode(m.group(2)));
      } catch (NumberFormatException e) {
        throw new AssertionError(m.group(1) + " is not a plain number: " + m.group(2), e);
      }
    }
    return out;
  }

  static void assertNoProblems(String what, List<String> problems) {
    assertTrue(problems.isEmpty(), () -> what + ":\n  " + String.join("\n  ", problems));
  }
}
