model_component::model_component!(risk_models::Model::Prevent2023);
