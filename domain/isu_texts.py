"""The words of an ISU invoice in the three languages it is written in (the register says which a State prefers)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.models import Language


@dataclass(frozen=True)
class InvoiceTexts:
    title: str
    to: str
    year: str
    amount: str
    category: str
    due: str
    reference: str
    budget: str
    carried: str
    explanation: str


_TEXTS = {
    Language.EN: InvoiceTexts(
        title="Implementation Support Unit - Note and invoice",
        to="State Party",
        year="Budget year",
        amount="Amount due",
        category="Contribution category",
        due="Due date",
        reference="Payment reference",
        budget="ISU budget adopted",
        carried="Arrears carried from earlier years (not included above)",
        explanation=(
            "The Meeting of States Parties adopted the budget of the Implementation Support Unit, financed by the "
            "States Parties under its financial procedures. This note sets out your State's contribution for the "
            "year in its category. Please transfer the amount by {due}, quoting the payment reference {reference} "
            "so that it is credited to your State. Payments are recorded on receipt; a statement of what was "
            "invoiced, paid and is outstanding is available from the ISU at any time. Voluntary contributions to "
            "the capital reserve are welcome: it serves only to cover cash-flow shortfalls."
        ),
    ),
    Language.FR: InvoiceTexts(
        title="Unité d'appui à l'application - Note et facture",
        to="État partie",
        year="Exercice budgétaire",
        amount="Montant dû",
        category="Catégorie de contribution",
        due="Date d'échéance",
        reference="Référence de paiement",
        budget="Budget de l'ISU adopté",
        carried="Arriérés reportés des exercices précédents (non compris ci-dessus)",
        explanation=(
            "L'Assemblée des États parties a adopté le budget de l'Unité d'appui à l'application, financé par les "
            "États parties selon ses procédures financières. La présente note indique la contribution de votre État "
            "pour l'exercice, dans sa catégorie. Veuillez virer le montant au plus tard le {due} en indiquant la "
            "référence de paiement {reference}, afin qu'il soit porté au crédit de votre État. Les paiements sont "
            "enregistrés dès réception ; un relevé de ce qui a été facturé, payé et reste dû peut être obtenu de "
            "l'ISU à tout moment. Les contributions volontaires à la réserve de capital sont bienvenues : elle sert "
            "uniquement à couvrir les déficits de trésorerie."
        ),
    ),
    Language.ES: InvoiceTexts(
        title="Dependencia de Apoyo a la Aplicación - Nota y factura",
        to="Estado parte",
        year="Ejercicio presupuestario",
        amount="Importe adeudado",
        category="Categoría de contribución",
        due="Fecha de vencimiento",
        reference="Referencia de pago",
        budget="Presupuesto de la ISU aprobado",
        carried="Atrasos de ejercicios anteriores (no incluidos arriba)",
        explanation=(
            "La Reunión de los Estados Partes aprobó el presupuesto de la Dependencia de Apoyo a la Aplicación, "
            "financiado por los Estados partes según sus procedimientos financieros. Esta nota indica la "
            "contribución de su Estado para el ejercicio, en su categoría. Le rogamos transferir el importe a más "
            "tardar el {due}, indicando la referencia de pago {reference} para que se abone a su Estado. Los pagos "
            "se registran al recibirse; la ISU puede facilitar en todo momento un estado de lo facturado, pagado y "
            "pendiente. Las contribuciones voluntarias a la reserva de capital son bienvenidas: sirve únicamente "
            "para cubrir déficits de tesorería."
        ),
    ),
}


def texts(language: Language) -> InvoiceTexts:
    """The invoice's words in ``language``; English for any other."""
    return _TEXTS.get(language, _TEXTS[Language.EN])
